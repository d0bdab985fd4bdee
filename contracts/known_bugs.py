"""Known bugs of the mock, so ``make test`` stays green while they are open.

Applied only when the target is a mock (``--target-kind mock``, the default for the
self-started one): the check is then marked xfail with the reason, still runs, and its
clauses still show as failed in the report (prefixed "known mock bug"). Against any other
target nothing here applies. Remove an entry once the mock is fixed (pytest then reports
XPASS for it).

Keys are check names as pytest shows them, e.g.
``test_undocumented_fields_are_ignored[byteplusEditSubmit]`` (open from the first run
until the mock's commit 94f4bb6 fixed it).
"""

from __future__ import annotations

KNOWN_MOCK_BUGS: dict[str, str] = {}
