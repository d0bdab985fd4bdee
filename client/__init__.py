"""A thin, typed client of Pixazo's Seedream gateway, sync (``Gateway``) and async
(``AsyncGateway``), with polling, downloads, webhooks, cost limits and safe retries.

    from seedream_client import Gateway

    with Gateway(api_key="test-key", base_url="http://127.0.0.1:8000") as gw:
        result = gw.run("a lighthouse at dawn", download_to="out")
        print(result.files, result.estimated_cost)

The error tree is documented in ``client._exceptions`` (``help(client.GatewayError)``'s module).
"""

from __future__ import annotations

from seedream_client import webhooks
from seedream_client._async import AsyncGateway, AsyncJob
from seedream_client._base import DEFAULT_BASE_URL
from seedream_client._build import EditModel, ImageInput, ImageSize, MultiEditModel, TextModel
from seedream_client._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CostLimitError,
    GatewayError,
    InsufficientBalanceError,
    InternalServerError,
    InvalidRequestError,
    JobError,
    JobErrorError,
    JobFailedError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from seedream_client._models import JobStatus, PriceTable, Result, Status
from seedream_client._retry import PollPolicy, RetryPolicy
from seedream_client._sync import Gateway, Job
from seedream_client.webhooks import WebhookReceiver, Webhooks

__all__ = [
    "DEFAULT_BASE_URL",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncGateway",
    "AsyncJob",
    "AuthenticationError",
    "BadRequestError",
    "CostLimitError",
    "EditModel",
    "Gateway",
    "GatewayError",
    "ImageInput",
    "ImageSize",
    "InsufficientBalanceError",
    "InternalServerError",
    "InvalidRequestError",
    "Job",
    "JobError",
    "JobErrorError",
    "JobFailedError",
    "JobStatus",
    "ModelNotFoundError",
    "MultiEditModel",
    "NotFoundError",
    "PermissionDeniedError",
    "PollPolicy",
    "PriceTable",
    "RateLimitError",
    "Result",
    "RetryPolicy",
    "Status",
    "TextModel",
    "WaitTimeoutError",
    "WebhookReceiver",
    "WebhookVerificationError",
    "Webhooks",
    "webhooks",
]
