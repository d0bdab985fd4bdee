"""The gateway's domain: a synchronous, I/O-free core.

Every entry point takes ``now`` (seconds since the epoch, from the app's one clock) and
nothing here imports a web framework, an HTTP client or asyncio; ``tests/test_core_purity.py``
keeps it that way. The HTTP layer authenticates, validates, calls the core and renders.
"""

from __future__ import annotations

from mock_gateway.core.gateway import (
    AuthFailure,
    GatewayCore,
    InsufficientBalance,
    RateLimited,
    SubmitResult,
)
from mock_gateway.core.jobs import Job, JobSpec, JobStatus, format_timestamp
from mock_gateway.core.settings import CoreSettings, KeySettings, RateLimit, TimingProfile

__all__ = [
    "AuthFailure",
    "CoreSettings",
    "GatewayCore",
    "InsufficientBalance",
    "Job",
    "JobSpec",
    "JobStatus",
    "KeySettings",
    "RateLimit",
    "RateLimited",
    "SubmitResult",
    "TimingProfile",
    "format_timestamp",
]
