"""Known bugs of the mock, so ``make test`` stays green while they are open.

Applied only when the target is a mock (``--target-kind mock``, the default for the
self-started one): the check is then marked xfail with the reason, still runs, and its
clauses still show as failed in the report. Against any other target nothing here applies.
Remove an entry once the mock is fixed (pytest then reports XPASS for it).
"""

from __future__ import annotations

_UNDOCUMENTED_FIELDS = (
    "mock bug (reported to the mock's owner): a byteplus submit carrying an undocumented "
    "field the 5.0 Lite endpoints define (num_images of a non-integer type, an image_size "
    "object) passes validation (the contract allows additional properties) and then crashes "
    "the mock with 500"
)

KNOWN_MOCK_BUGS: dict[str, str] = {
    f"test_undocumented_fields_are_ignored[{operation}]": _UNDOCUMENTED_FIELDS
    for operation in ("byteplusEditSubmit", "byteplusTextToImageSubmit", "byteplusMultiEditSubmit")
}
