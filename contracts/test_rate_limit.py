"""429 and Retry-After, provoked on a key of the suite's own through the control API.

Only a mock offers a way to lower a key's limit; against the live gateway this is reported
as skipped (flooding a live gateway until it throttles would be rude, and could be billed).
"""

from __future__ import annotations

import re
from decimal import Decimal

from seedream_contracts.control import ControlApi
from seedream_contracts.jobs import json_or_none, submit
from seedream_contracts.plan import clauses, cost, needs
from seedream_contracts.run import Run
from seedream_contracts.spec import load_contract

LITE = load_contract().submits["liteTextToImageSubmit"]
START = Decimal("5")
MESSAGE = re.compile(r"^Rate limit is exceeded\. Try again in (\d+) seconds\.$")
TOO_MANY = "#/components/responses/TooManyRequests/content/application~1json/schema"


@needs("control")
@cost(LITE.cost(1))
@clauses("RATE-LIMIT-429", "RESPONSE-HEADERS")
def test_rate_limited_call_gets_429_with_retry_after(run: Run) -> None:
    assert run.control is not None
    control: ControlApi = run.control
    key = control.new_key(START, "ratelimit")
    run.register_key(key, "ratelimit-key")
    control.set_rate_limits(key, submit="1/m")
    submit(run, LITE, dict(LITE.example), key=key)  # takes the only token
    with run.session.labelled("submit.rate-limited"):
        response = run.session.post(
            run.target.url(LITE.path), json=LITE.example, headers=run.headers(key), timeout=30
        )
    body = json_or_none(response.content)
    message = body.get("message", "") if isinstance(body, dict) else ""
    match = MESSAGE.match(message)
    retry_after = response.headers.get("Retry-After", "")
    balance = control.balance(key)
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "RATE-LIMIT-429",
            response.status_code == 429 and not run.contract.schema_errors(TOO_MANY, body),
            f"a call beyond the limit answered {response.status_code} {response.text[:200]!r}",
        )
        v.expect(
            "RESPONSE-HEADERS",
            retry_after.isdigit() and int(retry_after) >= 1,
            f"429 came with Retry-After {retry_after!r} (documented: whole seconds)",
        )
        v.expect(
            "RATE-LIMIT-429",
            match is not None and match.group(1) == retry_after,
            f"the message {message!r} does not name the Retry-After wait ({retry_after!r})",
        )
        v.expect(
            "RATE-LIMIT-429",
            balance == START - LITE.cost(1),
            f"balance ${balance} after one accepted and one throttled submit from ${START}",
        )
