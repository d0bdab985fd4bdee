"""Keys stay out of the server's own log, as they stay out of the journal.

APIM accepts the subscription key as a query parameter (``?subscription-key=...``), and
uvicorn's access log prints every request line in full. This filter rewrites that line so
the key shows only its last 4 characters, like everywhere else the mock shows a key.
"""

from __future__ import annotations

import logging
import re

from mock_gateway.steering.journal import redact_key

ACCESS_LOGGER = "uvicorn.access"
_KEY_PARAMETER = re.compile(r"(subscription-key=)([^&\s#]*)", re.IGNORECASE)


def redact_query_keys(text: str) -> str:
    return _KEY_PARAMETER.sub(lambda m: m.group(1) + str(redact_key(m.group(2))), text)


class RedactKeys(logging.Filter):
    """Redacts ``subscription-key`` values in a record's arguments (uvicorn passes the
    request path as one) and in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query_keys(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str) and "subscription-key=" in record.msg.lower():
            record.msg = redact_query_keys(record.msg)
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger (call after uvicorn configured logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactKeys) for existing in logger.filters):
        logger.addFilter(RedactKeys())
