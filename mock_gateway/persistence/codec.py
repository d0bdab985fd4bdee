"""The mock's whole state as JSON and back: what snapshots, ``--state`` and export share.

Interface (the SQLite store, ``mock_gateway.persistence``, builds on it):

- ``FORMAT``: the snapshot format version (``"format"`` in every snapshot);
- ``snapshot(state) -> dict``: everything below, JSON-able; it reads and changes nothing
  (call ``state.advance()`` first to have it as of now);
- ``restore(state, data)``: checks *every* section first and raises ``SnapshotRefused``
  (one class; the message names the field, e.g. ``jobs[3].spec.width: ...``) before changing
  anything, so bad input loses nothing; then installs it all at once;
- ``job_record(job) -> dict`` and ``job_from_record(record) -> Job``: one job (a store keeps
  jobs as rows), in the ``jobs`` section's form;
- ``prepare(state, data)`` then ``install(state, prepared)``: ``restore`` in two steps, the
  checking one free to run in a worker thread (the control API does so for big snapshots);
- ``section(state, name)``: one section's JSON (``SECTIONS``; ``"jobs"`` too);
- ``entry_record(entry)``: one journal entry in the ``journal`` section's form (a store may
  keep the entries as rows; an extension of the agreed interface, for that).

Sections: ``clock`` (mock time and rate: a restore goes on from that moment, no jump),
``accounts`` (keys with balances, limits, flags, whether ``--any-key`` made them),
``idle_accounts`` (when such keys last called, oldest first), ``rate_limits`` (token
buckets), ``queue`` (where the simulation stands, jobs accepted, finished jobs whose webhook
is not yet queued), ``rng`` (the states of the job, fault and id generators, so ids and
fault dice go on as they would have), ``faults`` (rules and how often each fired),
``webhooks`` (deliveries with their attempts, and the schedule), ``journal`` (its entries,
bounded by the restoring mock's own limits), ``hygiene`` (the Retry-After each key was given,
each request's last polls and the submits just accepted, so the journal's warnings go on as
they would have), ``jobs`` (see ``codec_jobs``). Only ``format``, ``clock``, ``accounts``
and ``jobs`` are required: a missing section restores as empty (``rng``: fresh from the
mock's seed, as after a reset).
Ids drawn by an unseeded mock (``"ids": null``) leave the restoring mock's own id source as
it is; a seeded one's state makes the restoring mock draw the ids the original would have
drawn next.

For a store: ``hygiene`` changes on almost every call and holds up to three tables of
``journal_size`` rows (10,000 by default); it is only hints, so save it lazily, as the
journal (losing its last second in a crash only loses a warning or two).

Not held: rendered images (they re-render byte-identically), attempts in flight (written
as due at once: a receiver may see a callback twice, never zero times).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mock_gateway.core import Job, RateLimit
from mock_gateway.core.gateway import Account
from mock_gateway.core.idle_accounts import IdleAccounts
from mock_gateway.core.queue import JobQueue
from mock_gateway.core.ratelimit import RateLimiter
from mock_gateway.core.wallet import Wallet, micros_to_usd, usd_to_micros
from mock_gateway.persistence.codec_fields import (
    MAX_KEY,
    Fields,
    SnapshotRefused,
    rng_from,
    rng_state,
    shown,
)
from mock_gateway.persistence.codec_jobs import job_from_record, job_record
from mock_gateway.persistence.codec_logs import (
    Hints,
    entry_record,
    hygiene_section,
    journal_section,
    read_hygiene,
    read_journal,
)
from mock_gateway.persistence.codec_steering import (
    Deliveries,
    faults_section,
    read_faults,
    read_webhooks,
    webhooks_section,
)
from mock_gateway.steering.faults import ActiveFault
from mock_gateway.steering.journal import Entry

if TYPE_CHECKING:
    from mock_gateway.web.state import MockState

__all__ = [
    "FORMAT",
    "SECTIONS",
    "SnapshotRefused",
    "entry_record",
    "install",
    "job_from_record",
    "job_record",
    "prepare",
    "restore",
    "section",
    "snapshot",
]

FORMAT = 1
SECTIONS = (
    "clock", "accounts", "idle_accounts", "rate_limits", "queue", "rng", "faults",
    "webhooks", "journal", "hygiene",
)  # fmt: skip
REQUIRED = ("format", "clock", "accounts", "jobs")
ACCOUNT_FIELDS = ("key", "balance_usd", "forbidden", "rate_limits", "note", "auto")
GROUPS = ("submit", "status")
_USD = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,6})?")
MAX_RATE = 1e6  # the control API's largest clock rate


def _account_record(state: MockState, account: Account) -> dict[str, Any]:
    limits = {
        group: {"calls": limit.calls, "period_seconds": limit.period_seconds, "burst": limit.burst}
        for group, limit in account.rate_limits.items()
    }
    return {
        "key": account.key,
        "balance_usd": format(micros_to_usd(state.core.balance_micros(account.key)), "f"),
        "forbidden": account.forbidden,
        "rate_limits": limits,
        "note": account.note,
        "auto": account.auto,
    }


def section(state: MockState, name: str) -> Any:
    """One section of ``snapshot(state)`` (``name`` from ``SECTIONS``, or ``"jobs"``)."""
    core = state.core
    if name == "clock":
        return {"time": state.clock.now(), "rate": state.clock.rate}
    if name == "accounts":
        return [_account_record(state, account) for account in core.all_accounts()]
    if name == "idle_accounts":
        return [[key, last] for key, last in core.idle_accounts.last_calls()]
    if name == "rate_limits":
        return [list(bucket) for bucket in core.limiter.buckets()]
    if name == "queue":
        sim_time = core.queue.sim_time
        return {
            "sim_time": None if math.isinf(sim_time) else sim_time,
            "submitted": core.submitted,
            "unreported": [job.request_id for job in core._finished],
        }
    if name == "rng":
        ids = core.ids.seeded_random
        return {
            "core": rng_state(core.rng),
            "faults": rng_state(state.faults.rng),
            "ids": None if ids is None else rng_state(ids),
        }
    if name == "faults":
        return faults_section(state.faults.rules(), state.faults.next_id)
    if name == "webhooks":
        return webhooks_section(state.webhooks, state.clock.now())
    if name == "journal":
        return journal_section(state.journal)
    if name == "hygiene":
        return hygiene_section(state.hygiene)
    if name == "jobs":
        return [job_record(job) for job in core.queue]
    raise ValueError(f"no snapshot section {name!r} (sections: {', '.join(SECTIONS)}, jobs)")


def snapshot(state: MockState, without: Collection[str] = ()) -> dict[str, Any]:
    """The whole state as JSON (``restore`` takes it back), minus the optional sections
    named in ``without`` (not built at all: the journal alone can be 10,000 entries)."""
    data: dict[str, Any] = {"format": FORMAT}
    for name in (*SECTIONS, "jobs"):
        if name not in without:
            data[name] = section(state, name)
    return data


# -- reading -----------------------------------------------------------------------------


def _limit(data: Any, where: str) -> RateLimit:
    fields = Fields(data, where, ("calls", "period_seconds", "burst"))
    return RateLimit(
        calls=fields.integer("calls", 1, 10**9),
        period_seconds=fields.number("period_seconds", 1e-3, 1e9),
        burst=fields.integer("burst", 1, 10**9),
    )


def _account(data: Any, where: str) -> tuple[Account, int]:
    fields = Fields(data, where, ACCOUNT_FIELDS)
    balance = fields.text("balance_usd", limit=32)
    if not _USD.fullmatch(balance):
        raise fields.refuse("balance_usd", f'must be an amount like "12.5" (got {shown(balance)})')
    limits = fields.raw("rate_limits")
    if not isinstance(limits, dict) or any(group not in GROUPS for group in limits):
        raise fields.refuse("rate_limits", 'must be an object of "submit" and "status" limits')
    account = Account(
        key=fields.text("key", limit=MAX_KEY, empty=False),
        forbidden=fields.flag("forbidden"),
        rate_limits={g: _limit(v, f"{fields.at('rate_limits')}.{g}") for g, v in limits.items()},
        note=fields.text("note", limit=1024 * 1024),
        auto=fields.flag("auto"),
    )
    return account, usd_to_micros(Decimal(balance))


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything a snapshot holds, checked and built, not yet installed."""

    time: float
    rate: float
    accounts: list[tuple[Account, int]]
    idle: list[tuple[str, float]]
    buckets: list[tuple[str, str, float, float]]
    jobs: list[Job]
    sim_time: float
    submitted: int
    unreported: list[Job]
    rngs: tuple[random.Random, random.Random, random.Random | None] | None
    rules: tuple[list[ActiveFault], int]
    deliveries: Deliveries
    journal: tuple[list[Entry], int]
    hygiene: Hints


def prepare(state: MockState, data: Any) -> Prepared:
    """Check ``data`` whole and build what it describes, changing nothing; it reads only the
    mock's configuration, so it may run in a worker thread (a big snapshot takes a while)."""
    if not isinstance(data, dict):
        raise SnapshotRefused(f"snapshot: must be a JSON object (got {type(data).__name__})")
    fields = Fields(data, "", (*REQUIRED, *SECTIONS))
    version = fields.integer("format", 1, 10**6)
    if version > FORMAT:
        raise fields.refuse("format", f"{version} is newer than this mock reads ({FORMAT})")
    clock = fields.child("clock", ("time", "rate"))
    accounts = [_account(item, where) for where, item in fields.indexed("accounts")]
    keys = {account.key for account, _ in accounts}
    if len(keys) != len(accounts):
        raise fields.refuse("accounts", "a key appears twice")
    jobs = [job_from_record(item, where) for where, item in fields.indexed("jobs")]
    by_id = {job.request_id: job for job in jobs}
    if len(by_id) != len(jobs):
        raise fields.refuse("jobs", "a request_id appears twice")
    for index, job in enumerate(jobs):
        if job.owner not in keys:
            raise SnapshotRefused(f"jobs[{index}].owner: no account has this key")
    idle = []
    for row in fields.rows("idle_accounts", ("key", "last_call")):
        if row.raw("key") not in keys:
            raise row.refuse("key", "no account has this key")
        idle.append((row.text("key"), row.time("last_call")))
    buckets = [
        (
            row.text("key", limit=MAX_KEY),
            row.choice("group", GROUPS),
            row.number("tokens", 0.0, 1e9),
            row.time("updated"),
        )
        for row in fields.rows("rate_limits", ("key", "group", "tokens", "updated"))
    ]
    queue = Fields(data.get("queue", {}), "queue", ("sim_time", "submitted", "unreported"))
    unreported = []
    for where, request_id in queue.indexed("unreported", default=True):
        finished = by_id.get(request_id) if isinstance(request_id, str) else None
        if finished is None or not finished.status.terminal or finished in unreported:
            raise SnapshotRefused(f"{where}: must name a finished job of the snapshot, once")
        unreported.append(finished)
    rngs: tuple[random.Random, random.Random, random.Random | None] | None = None
    if fields.has("rng"):
        rng = fields.child("rng", ("core", "faults", "ids"))
        ids = None if not rng.has("ids") else rng_from(rng.raw("ids"), rng.at("ids"))
        rngs = (
            rng_from(rng.raw("core"), "rng.core"),
            rng_from(rng.raw("faults"), "rng.faults"),
            ids,
        )
    empty_faults = {"next_id": 1, "rules": []}
    return Prepared(
        time=clock.time("time"),
        rate=clock.number("rate", 0.0, MAX_RATE),
        accounts=accounts,
        idle=idle,
        buckets=buckets,
        jobs=jobs,
        sim_time=queue.time("sim_time") if queue.has("sim_time") else -math.inf,
        submitted=queue.integer("submitted", 0, 2**62) if "submitted" in queue.data else len(jobs),
        unreported=unreported,
        rngs=rngs,
        rules=read_faults(data.get("faults", empty_faults), state.fault_endpoints),
        deliveries=read_webhooks(
            data.get("webhooks", {"deliveries": [], "scheduled": []}), state.webhooks
        ),
        journal=read_journal(data.get("journal", {"recorded": 0, "entries": []})),
        hygiene=read_hygiene(data.get("hygiene", {})),
    )


def restore(state: MockState, data: Any) -> None:
    """Make ``state`` what ``data`` (a ``snapshot``) describes; ``SnapshotRefused`` (and no
    change at all) when any part of it does not fit."""
    install(state, prepare(state, data))


def install(state: MockState, parsed: Prepared) -> None:
    """Put what ``prepare`` built in place: nothing here can fail, so it is all or nothing."""
    core, settings = state.core, state.core.settings
    state.clock.restore(parsed.time, parsed.rate)
    core.accounts = {account.key: account for account, _ in parsed.accounts}
    core.wallet = Wallet()
    for account, micros in parsed.accounts:
        core.wallet.set_balance(account.key, micros)
    core.limiter = RateLimiter()
    core.limiter.load(parsed.buckets)
    core.idle_accounts = IdleAccounts(core.idle_accounts.idle_seconds)
    for key, last in parsed.idle:
        core.idle_accounts.touch(key, last)
    core.queue = JobQueue.restored(
        settings.workers, settings.retention_seconds, parsed.jobs, parsed.sim_time
    )
    core._finished = list(parsed.unreported)
    core.submitted = parsed.submitted
    if parsed.rngs is None:
        core.rng, faults_rng = random.Random(settings.seed), random.Random(settings.seed)
    else:
        core.rng, faults_rng, ids_rng = parsed.rngs
        if ids_rng is not None:  # an unseeded mock's ids came from secrets: keep our own
            core.ids.use_random(ids_rng)
    state.faults.restore(*parsed.rules, faults_rng)
    state.journal.restore(*parsed.journal)
    state.webhooks.restore(parsed.deliveries.logged, parsed.deliveries.scheduled)
    state.hygiene.restore_hints(*parsed.hygiene)
    state.world.reset()
    state.images.clear()
    state.waker.wake()
