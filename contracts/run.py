"""One run of the suite: options, target, guard, verdicts, exchanges and timings together.

Both front ends build exactly one ``Run`` per pytest session (``conftest.py`` keeps it in
the pytest config), and every check reaches the target through ``run.session``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from seedream_contracts.control import ControlApi, ControlError
from seedream_contracts.exchange import Exchange
from seedream_contracts.guard import SpendGuard
from seedream_contracts.options import Options
from seedream_contracts.receiver import WebhookReceiver
from seedream_contracts.recording import Recorder
from seedream_contracts.redact import Redactor
from seedream_contracts.safety import UrlPolicy
from seedream_contracts.spec import KEY_HEADER, Contract, load_contract
from seedream_contracts.target import Target, TargetError, open_target
from seedream_contracts.timing import Timings
from seedream_contracts.transport import GuardedSession
from seedream_contracts.verdicts import ClauseBook

MOCK_KEYS = {"api_key": "test-key", "broke_key": "broke-key"}
SUITE_FUNDS = Decimal(1000)  # the funded key's balance: a full run spends about $6


@dataclass
class Run:
    options: Options
    target: Target
    contract: Contract = field(default_factory=load_contract)
    book: ClauseBook = field(default_factory=ClauseBook)
    timings: Timings = field(default_factory=Timings)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    request_ids: dict[str, str] = field(default_factory=dict)  # id -> check that saw it first
    started_at: float = field(default_factory=time.time)
    invalid_keys: set[str] = field(default_factory=set)
    control: ControlApi | None = None
    receiver: WebhookReceiver | None = None
    recorder: Recorder | None = None

    def __post_init__(self) -> None:
        target, options = self.target, self.options
        budget = options.max_spend
        if budget is None and target.kind == "live":
            budget = Decimal(0)
        self.guard = SpendGuard(budget)
        live = target.kind == "live"
        self.poll_interval = (
            options.poll_interval if options.poll_interval is not None else (5.0 if live else 0.05)
        )
        slow = live or target.timing_profile == "realistic"
        self.job_timeout = options.job_timeout or (600.0 if slow else 120.0)
        if target.loopback:
            self.receiver = WebhookReceiver()
        self.redactor = Redactor(keys={}, hosts={target.origin: "{gateway}"})
        self.book.scrub = self.redactor.text
        if self.receiver is not None:
            self.redactor.hosts[self.receiver.prefix.rsplit("/hook/", 1)[0]] = "{receiver}"
        self.api_key: str | None = None
        self.broke_key: str | None = None
        self.other_key: str | None = None
        self.session = GuardedSession(
            guard=self.guard,
            policy=UrlPolicy(self.receiver.prefix if self.receiver else None),
            target_origin=target.origin,
            free_keys=self.free_keys,
            on_exchange=self._on_exchange,
        )
        if options.record is not None:
            self.recorder = Recorder(options.record, self.describe_target())
        if target.kind == "mock":
            control = ControlApi(self.session, target.base_url)
            if control.available():
                self.control = control
                target.control = True
        try:
            self._choose_keys()
        except BaseException as exc:
            self.cleanup()
            self.session.close()
            if isinstance(exc, ControlError):
                message = f"the mock's control API refused the suite's keys: {exc}"
                raise TargetError(message) from exc
            raise

    def _choose_keys(self) -> None:
        """With a control API the suite works only with keys it creates (and removes at the
        end), so a shared mock's own keys keep their balances; else the given keys."""
        options = self.options
        if self.control is not None:
            self.api_key = self.control.new_key(SUITE_FUNDS, "funded")
            self.broke_key = self.control.new_key(Decimal(0), "broke")
            self.other_key = self.broke_key
        else:
            defaults = MOCK_KEYS if self.target.self_started else {}
            self.api_key = options.api_key or defaults.get("api_key")
            self.broke_key = options.broke_key or defaults.get("broke_key")
            self.other_key = options.other_key or self.broke_key
        roles = {self.api_key: "api-key", self.broke_key: "broke-key", self.other_key: "other-key"}
        self.redactor.keys.update({key: role for key, role in roles.items() if key})

    @classmethod
    def open(cls, options: Options) -> Run:
        target = open_target(options.gateway_url, options.target_kind, options.mock_timing)
        try:
            return cls(options=options, target=target)
        except BaseException:
            target.stop()
            raise

    def free_keys(self) -> set[str]:
        """Keys whose requests cannot be billed: the deliberately invalid ones and the
        zero-balance key (a 202 with it is a violation, not a charge we can be liable for)."""
        free = set(self.invalid_keys)
        if self.broke_key:
            free.add(self.broke_key)
        return free

    def invalid_key(self) -> str:
        key = f"contract-suite-invalid-{uuid.uuid4().hex[:16]}"
        self.invalid_keys.add(key)
        self.redactor.keys[key] = "invalid-key"
        return key

    def register_key(self, key: str, role: str) -> None:
        self.redactor.keys[key] = role

    def headers(self, key: str | None = None) -> dict[str, str]:
        chosen = key if key is not None else self.api_key
        return {KEY_HEADER: chosen} if chosen else {}

    def _on_exchange(self, exchange: Exchange) -> None:
        fixture = self.redactor.exchange(exchange)
        self.exchanges.append(fixture)
        self.book.record("SAFE-URLS", True)  # the transport scanned it before sending
        if self.recorder is not None:
            self.recorder.write(fixture)

    def evidence(self, exchange: Exchange | None = None) -> dict[str, Any] | None:
        chosen = exchange or self.session.last
        return None if chosen is None else self.redactor.exchange(chosen)

    def describe_target(self) -> dict[str, Any]:
        return {
            "kind": self.target.kind,
            "base_url": self.target.origin + urlsplit(self.target.base_url).path,
            "self_started": self.target.self_started,
            "detected": self.target.detected,
            "control_api": self.target.control,
            "timing_profile": self.target.timing_profile,
            "poll_interval_s": self.poll_interval,
        }

    def cleanup(self) -> list[str]:
        """Remove the keys and fault rules the run created on the target."""
        return self.control.cleanup() if self.control is not None else []

    def close(self) -> None:
        try:
            left = self.cleanup()
            if left:
                print("contracts: could not remove from the mock: " + "; ".join(left))
        finally:
            if self.receiver is not None:
                self.receiver.close()
            self.session.close()
            self.target.stop()
