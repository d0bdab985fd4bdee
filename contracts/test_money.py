"""Money, where it is observable: only the mock's control API shows a balance
(``GET /_mock/keys/{key}``), so these checks run against a mock that offers it and are
reported as skipped otherwise. Each uses a fresh key of its own, so nothing else moves its
balance while it looks.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from seedream_contracts.control import ControlApi
from seedream_contracts.jobs import Job, json_or_none, submit, wait_all
from seedream_contracts.plan import clauses, cost, needs
from seedream_contracts.run import Run
from seedream_contracts.spec import load_contract
from seedream_contracts.verdicts import Verifier

CONTRACT = load_contract()
LITE = CONTRACT.submits["liteTextToImageSubmit"]
START = Decimal("5")


def _control(run: Run) -> ControlApi:
    assert run.control is not None
    return run.control


def _fresh_key(run: Run, balance: Decimal, label: str) -> str:
    key = _control(run).new_key(balance, label)
    run.register_key(key, f"{label}-key")
    return key


def _outcome_applied(v: Verifier, job: Job, status: str, error: str) -> bool:
    """The mock's own promise: a fault rule it accepted decides how the job ends."""
    last = job.bodies[-1] if job.bodies else {}
    return v.expect(
        "CONTROL-FAULT-APPLIES",
        last.get("status") == status and last.get("error") == error,
        f"a {status} fault rule with error {error!r} was accepted, but the job ended"
        f" {last.get('status')} with error {last.get('error')!r}",
    )


@pytest.mark.parametrize(
    ("operation_id", "images"),
    [(op.operation_id, 1) for op in CONTRACT.submits.values()] + [(LITE.operation_id, 3)],
)
@needs("control")
@cost(sum((op.cost(1) for op in CONTRACT.submits.values()), LITE.cost(3)))
@clauses("MONEY-CHARGE")
def test_submit_charges_exactly_the_price(run: Run, operation_id: str, images: int) -> None:
    op = CONTRACT.submits[operation_id]
    key = _fresh_key(run, START, "money")
    body = dict(op.example)
    if op.has_num_images:
        body["num_images"] = images
    submit(run, op, body, key=key)
    after = _control(run).balance(key)
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "MONEY-CHARGE",
            START - after == op.cost(images),
            f"{operation_id} x{images} charged ${START - after}, price ${op.cost(images)}",
        )


@needs("control")
@cost(LITE.cost(1))
@clauses("MONEY-ERROR-REFUND", "CONTROL-FAULT-APPLIES", "OUTPUT-IFF-COMPLETED", "COMPLETED-AT")
def test_error_is_refunded(run: Run) -> None:
    control = _control(run)
    key = _fresh_key(run, START, "refund")
    error = "contract suite: injected ERROR"
    control.add_fault({"outcome": "ERROR", "error": error, "times": 1, "key": key})
    job: Job = submit(run, LITE, dict(LITE.example), key=key)
    wait_all(run, [job])
    after = control.balance(key)
    with run.book.verify(run.evidence()) as v:
        if _outcome_applied(v, job, "ERROR", error):  # else a refund check would mean nothing
            v.expect(
                "MONEY-ERROR-REFUND",
                after == START,
                f"balance ${after} after an ERROR job, ${START} before",
            )


@needs("control")
@clauses("MONEY-402-UNCHANGED", "BALANCE-402")
def test_402_leaves_balance_unchanged(run: Run) -> None:
    balance = LITE.cost(1) / 2
    key = _fresh_key(run, balance, "short")
    with run.session.labelled("submit.short-balance"):
        response = run.session.post(
            run.target.url(LITE.path), json=LITE.example, headers=run.headers(key), timeout=30
        )
    after = _control(run).balance(key)
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "BALANCE-402",
            response.status_code == 402,
            f"a submit beyond the balance answered {response.status_code}",
        )
        v.expect("MONEY-402-UNCHANGED", after == balance, f"balance ${balance} became ${after}")


@needs("control")
@cost(LITE.cost(4))
@clauses("MONEY-REJECTED-FREE")
def test_rejected_submit_is_free(run: Run) -> None:
    key = _fresh_key(run, START, "rejected")
    bad = dict(LITE.example, num_images=5)
    with run.session.labelled("submit.invalid:num_images-above-maximum"):
        response = run.session.post(
            run.target.url(LITE.path), json=bad, headers=run.headers(key), timeout=30
        )
    after = _control(run).balance(key)
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "MONEY-REJECTED-FREE",
            response.status_code == 400 and after == START,
            f"invalid submit answered {response.status_code}; balance ${START} -> ${after}",
        )


@needs("control")
@cost(LITE.cost(1))
@clauses("SERVER-ERROR-SHAPE")
def test_injected_500_has_documented_shape(run: Run) -> None:
    key = _fresh_key(run, START, "fault")
    _control(run).add_fault({"status": 500, "times": 1, "key": key})
    with run.session.labelled("submit.injected-500"):
        response = run.session.post(
            run.target.url(LITE.path), json=LITE.example, headers=run.headers(key), timeout=30
        )
    body = json_or_none(response.content)
    schema = "#/components/responses/InternalServerError/content/application~1json/schema"
    with run.book.verify(run.evidence()) as v:
        errors = run.contract.schema_errors(schema, body)
        v.expect(
            "SERVER-ERROR-SHAPE",
            response.status_code == 500 and not errors,
            f"injected fault answered {response.status_code} {response.text[:200]!r}",
        )


@needs("control")
@cost(LITE.cost(1))
@clauses(
    "CONTROL-FAULT-APPLIES",
    "OUTPUT-IFF-COMPLETED",
    "COMPLETED-AT",
    "TERMINAL-STABLE",
    "RESPONSE-SCHEMA",
)
def test_failed_job_reports_its_error(run: Run) -> None:
    """A FAILED job (provoked by a fault rule) goes through the same lifecycle checks: an
    error string, no output, completed_at set, and the status stays FAILED; and its error
    is the text the rule injected."""
    key = _fresh_key(run, START, "failed")
    error = "contract suite: injected FAILED"
    _control(run).add_fault({"outcome": "FAILED", "error": error, "times": 1, "key": key})
    job = submit(run, LITE, dict(LITE.example), key=key)
    wait_all(run, [job])  # every poll went through the lifecycle clauses
    with run.book.verify(run.evidence()) as v:
        _outcome_applied(v, job, "FAILED", error)
