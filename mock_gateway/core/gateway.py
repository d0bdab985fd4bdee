"""GatewayCore: keys, wallet, rate limits and the job queue behind one synchronous API.

The gateway pipeline (``mock_gateway.pipeline``) calls, in the gateway's order:
``authenticate`` (APIM), ``check_rate`` (APIM), then (after validating the body) ``submit``.
Time moves in one place: ``advance(now)`` (then ``take_finished``), which the pipeline's
``World.advance`` calls first in every operation; ``submit`` and ``find_job`` do not move
time themselves, so a direct user of the core calls ``advance(now)`` before them (as a
submit must see the workers and refunds that are free by ``now``).
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

from mock_gateway.core.idle_accounts import MAX_ANY_KEY_LENGTH, IdleAccounts
from mock_gateway.core.ids import IdSource, new_request_id
from mock_gateway.core.jobs import Job, JobSpec, JobStatus
from mock_gateway.core.queue import JobQueue
from mock_gateway.core.ratelimit import RateLimiter
from mock_gateway.core.safety import SafetyChecker
from mock_gateway.core.settings import CoreSettings, KeySettings, RateLimit
from mock_gateway.core.wallet import Wallet, usd_to_micros


class AuthFailure(enum.Enum):
    MISSING_KEY = "missing"
    INVALID_KEY = "invalid"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class RateLimited:
    retry_after: int


@dataclass(frozen=True, slots=True)
class InsufficientBalance:
    required_micros: int


@dataclass(frozen=True, slots=True)
class ModelDisabled:
    model: str


@dataclass(frozen=True, slots=True)
class SubmitResult:
    job: Job


@dataclass(slots=True)
class Account:
    """A subscription key as the mock knows it (the balance lives in the wallet)."""

    key: str
    forbidden: bool = False
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    note: str = ""
    auto: bool = False  # made by --any-key on first use (expires when idle)


class GatewayCore:
    def __init__(self, settings: CoreSettings, now: float) -> None:
        self.settings = settings
        self.safety = SafetyChecker(settings.safety_blocklist)
        self.ids = IdSource(settings.seed)  # not reset: ids never repeat within a run
        # operation id -> one image's price in micro-dollars (settings never change)
        self._unit_micros = {op: usd_to_micros(usd) for op, usd in settings.prices_usd.items()}
        self.reset(now)

    def reset(self, now: float) -> None:
        """Back to the configured start state: keys, balances, no jobs, fresh RNG.

        ``now`` is the moment of the reset; the start state does not depend on it."""
        self.rng = random.Random(self.settings.seed)
        self.wallet = Wallet()
        self.limiter = RateLimiter()
        self.queue = JobQueue(self.settings.workers, self.settings.retention_seconds)
        self.accounts: dict[str, Account] = {}
        idle = self.settings.any_key_idle_seconds or self.settings.retention_seconds
        self.idle_accounts = IdleAccounts(idle)
        self._finished: list[Job] = []
        self.submitted = 0  # jobs accepted since the last reset
        for key_settings in self.settings.keys:
            self.put_account(key_settings)

    # -- keys and balances -------------------------------------------------------------

    def put_account(self, key_settings: KeySettings) -> Account:
        account = Account(
            key=key_settings.key,
            forbidden=key_settings.forbidden,
            rate_limits=dict(key_settings.rate_limits),
            note=key_settings.note,
        )
        self.accounts[account.key] = account
        self.wallet.set_balance(account.key, usd_to_micros(key_settings.balance_usd))
        return account

    def has_jobs(self, key: str) -> bool:
        return self.queue.has_owner(key)

    def remove_account(self, key: str) -> None:
        self.idle_accounts.forget(key)
        self.accounts.pop(key, None)
        self.wallet.forget(key)
        self.limiter.forget(key)
        self.queue.remove_owner(key)

    def account(self, key: str) -> Account | None:
        """The key as configured (None when unknown; ``authenticate`` may create it)."""
        return self.accounts.get(key)

    def all_accounts(self) -> list[Account]:
        return list(self.accounts.values())

    def balance_micros(self, key: str) -> int:
        return self.wallet.balance(key)

    def waive_refunds(self, key: str) -> None:
        """A balance set now includes the refunds still due: jobs charged before it that
        end in ERROR refund nothing (``PUT /_mock/keys`` with a balance; docs/fidelity.md)."""
        self.queue.waive_refunds(key)

    def refill_limits(self, key: str) -> None:
        """Give ``key`` full rate-limit buckets (new limits start full)."""
        self.limiter.forget(key)

    def authenticate(self, key: str | None) -> Account | AuthFailure:
        if not key:
            return AuthFailure.MISSING_KEY
        account = self.accounts.get(key)
        if account is None:
            if not self.settings.any_key or len(key) > MAX_ANY_KEY_LENGTH:
                return AuthFailure.INVALID_KEY
            account = self.put_account(
                KeySettings(key=key, balance_usd=self.settings.any_key_balance_usd)
            )
            account.auto = True
        return AuthFailure.FORBIDDEN if account.forbidden else account

    def check_rate(self, account: Account, group: str, now: float) -> RateLimited | None:
        limit = account.rate_limits.get(group) or self.settings.default_rate_limits.get(group)
        retry_after = self.limiter.check(account.key, group, limit, now)
        return None if retry_after is None else RateLimited(retry_after)

    # -- jobs --------------------------------------------------------------------------

    def unit_price_micros(self, operation_id: str) -> int:
        """One image's price of an operation (0 for one the settings do not price)."""
        return self._unit_micros.get(operation_id, 0)

    def price_micros(self, spec: JobSpec) -> int:
        count = spec.num_images if self.settings.price_per_image else 1
        return self.unit_price_micros(spec.operation_id) * count

    def submit(
        self,
        account: Account,
        spec: JobSpec,
        now: float,
        *,
        outcome: tuple[JobStatus, str] | None = None,
    ) -> SubmitResult | InsufficientBalance | ModelDisabled:
        """Charge and queue a validated request. ``outcome`` forces a terminal status.

        The core must have been advanced to ``now`` (``advance``): a refund due by then is
        in the balance charged here, and the queue's order follows real time."""
        if (
            spec.model in self.settings.disabled_models
            or spec.slug in self.settings.disabled_models
        ):
            return ModelDisabled(spec.slug if spec.slug != "byteplus" else spec.model)
        cost = self.price_micros(spec)
        if not self.wallet.try_charge(account.key, cost):
            return InsufficientBalance(cost)
        durations = self.settings.timing.for_operation(spec.operation_id)
        jitter = self.rng.uniform(1.0 - durations.jitter, 1.0 + durations.jitter)
        seed = spec.seed if spec.seed is not None and spec.seed >= 0 else self.rng.randrange(2**31)
        job = Job(
            request_id=new_request_id(spec.slug, now, self.ids),
            owner=account.key,
            spec=spec,
            seed=seed,
            cost_micros=cost,
            created_at=now,
            ready_at=now + durations.queue_seconds,
            processing_seconds=max(0.0, durations.processing_seconds * jitter),
        )
        if outcome is not None:
            job.outcome, job.outcome_error = outcome
        elif (spec.safety_checker or spec.slug == "byteplus") and self.safety.flags(spec.prompt):
            job.outcome, job.outcome_error = JobStatus.FAILED, self.safety.error_text(spec.slug)
        self.queue.add(job)
        self.submitted += 1
        return SubmitResult(job)

    def find_job(self, owner: str, request_id: str) -> Job | None:
        """A job as its owner sees it (as of the last ``advance``); every other key gets
        None (a 404)."""
        job = self.queue.get(request_id)
        return job if job is not None and job.owner == owner else None

    def advance(self, now: float) -> list[Job]:
        """Move the world to ``now``; returns the jobs that reached a terminal status."""
        finished = self.queue.advance(now)
        self.idle_accounts.expire(self, now)  # --any-key accounts left idle are forgotten
        if not finished:
            return finished  # the usual call: nothing ended
        for job in finished:
            refundable = job.status is JobStatus.ERROR or (
                job.status is JobStatus.FAILED and not self.settings.charge_failed
            )
            if refundable and not job.refunded and job.owner in self.accounts:
                self.wallet.refund(job.owner, job.cost_micros)
                job.refunded = True
        self._finished.extend(finished)
        return finished

    def take_finished(self) -> list[Job]:
        """Jobs that became terminal since the last call, whoever advanced the queue
        (a status read, a submit or the ticker), so no webhook is ever missed."""
        finished, self._finished = self._finished, []
        return finished

    def next_deadline(self) -> float | None:
        return self.queue.next_deadline()
