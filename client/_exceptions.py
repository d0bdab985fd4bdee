"""Every exception the client raises, in one tree.

::

    GatewayError                        base of everything below; .status_code, .body, .request_id
    ├── InvalidRequestError             (also ValueError) arguments break the contract; nothing sent
    ├── CostLimitError                  the estimate is above max_cost; nothing sent
    ├── APIStatusError                  the gateway (or APIM in front of it) answered with an error
    │   ├── BadRequestError             400 validation failure
    │   │   └── ModelNotFoundError      400 {"error": "Model not found"}
    │   ├── AuthenticationError         401 missing or unknown key (APIM)
    │   ├── InsufficientBalanceError    402 .required_usd (Decimal) from "... Required: $0.035"
    │   ├── PermissionDeniedError       403 key not subscribed, or call quota used up (APIM)
    │   ├── NotFoundError               404 unknown request id (or one made with another key)
    │   ├── RateLimitError              429 .retry_after (seconds, from Retry-After) (APIM)
    │   └── InternalServerError         5xx
    ├── APIResponseValidationError      a success answer the client cannot understand
    ├── APIConnectionError              no answer: connection refused, reset, dropped ...
    │   └── APITimeoutError             ... or no answer in time
    ├── JobError                        wait(): the job ended without output; .error_text, .status
    │   ├── JobFailedError              status FAILED (e.g. safety checker; charged)
    │   └── JobErrorError               status ERROR (system error; not charged)
    ├── WaitTimeoutError                wait() gave up; .request_id lets you resume with wait(id)
    └── WebhookVerificationError        a callback's signature or timestamp does not check out

``body`` is the parsed JSON answer in either shape the gateway uses: its own
``{"error", "message"}`` or API Management's ``{"statusCode", "message"}``.
The subscription key never appears in any message.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seedream_client._models import JobStatus

_REQUIRED = re.compile(r"Required:\s*\$\s*([0-9]+(?:\.[0-9]+)?)")
_TRY_AGAIN = re.compile(r"Try again in\s+([0-9]+)\s+second", re.IGNORECASE)


class GatewayError(Exception):
    """Base class: catch this to handle anything the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        self.request_id = request_id


class InvalidRequestError(GatewayError, ValueError):
    """The arguments break the contract; raised before anything is sent, so it costs nothing."""


class CostLimitError(GatewayError):
    """The estimated cost is above ``max_cost``; raised before anything is sent."""

    def __init__(self, message: str, *, estimated_usd: Decimal, max_cost_usd: Decimal) -> None:
        super().__init__(message)
        self.estimated_usd = estimated_usd
        self.max_cost_usd = max_cost_usd


class APIStatusError(GatewayError):
    """An error answer. ``error`` and ``detail`` are the body's two text fields, if any."""

    @property
    def error(self) -> str | None:
        value = (self.body or {}).get("error")
        return value if isinstance(value, str) else None

    @property
    def detail(self) -> str | None:
        value = (self.body or {}).get("message")
        return value if isinstance(value, str) else None


class BadRequestError(APIStatusError):
    pass


class ModelNotFoundError(BadRequestError):
    pass


class AuthenticationError(APIStatusError):
    pass


class InsufficientBalanceError(APIStatusError):
    @property
    def required_usd(self) -> Decimal | None:
        match = _REQUIRED.search(self.detail or "")
        if not match:
            return None
        try:
            return Decimal(match.group(1))
        except InvalidOperation:  # pragma: no cover - the regex only lets digits through
            return None


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        if retry_after is None:
            match = _TRY_AGAIN.search(self.detail or "")
            retry_after = float(match.group(1)) if match else None
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    pass


class APIResponseValidationError(GatewayError):
    pass


class APIConnectionError(GatewayError):
    pass


class APITimeoutError(APIConnectionError):
    pass


class JobError(GatewayError):
    """The job ended FAILED or ERROR; ``error_text`` is the gateway's ``error`` field."""

    def __init__(self, message: str, *, status: JobStatus) -> None:
        super().__init__(message, request_id=status.request_id, body=status.raw)
        self.status = status
        self.error_text = status.error or ""


class JobFailedError(JobError):
    pass


class JobErrorError(JobError):
    pass


class WaitTimeoutError(GatewayError):
    """``wait`` ran out of time; the job goes on. Resume with ``gateway.wait(exc.request_id)``."""

    def __init__(self, message: str, *, request_id: str, last_status: JobStatus | None) -> None:
        super().__init__(message, request_id=request_id)
        self.last_status = last_status


class WebhookVerificationError(GatewayError):
    pass


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientBalanceError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_for_status(
    status_code: int,
    body: dict[str, Any] | None,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
    what: str = "",
) -> APIStatusError:
    """The exception for an error answer; pure, shared by the sync and async clients."""
    body = body or {}
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = InternalServerError if status_code >= 500 else APIStatusError
    if cls is BadRequestError and body.get("error") == "Model not found":
        cls = ModelNotFoundError
    parts = [str(body[k]) for k in ("error", "message") if isinstance(body.get(k), str)]
    text = ": ".join(parts) or "no details in the answer"
    message = f"{status_code} {text}" + (f" ({what})" if what else "")
    kw: dict[str, Any] = {"status_code": status_code, "body": body, "request_id": request_id}
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kw)
    return cls(message, **kw)
