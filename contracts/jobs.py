"""Submitting jobs and watching them: every observation is checked against the lifecycle
clauses (forward-only statuses, stable terminal state, completed_at, output, timestamps).

Polling follows the target's pace (``run.poll_interval`` per job: 5 s against the live
gateway, as its documentation asks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from seedream_contracts.run import Run
from seedream_contracts.spec import STATUS_PREFIX, WEBHOOK_HEADER, SubmitOperation
from seedream_contracts.timing import JobTiming, parse_timestamp
from seedream_contracts.verdicts import Verifier

RANK = {"QUEUED": 0, "PROCESSING": 1, "COMPLETED": 2, "FAILED": 2, "ERROR": 2}
TERMINAL = frozenset({"COMPLETED", "FAILED", "ERROR"})
STATUS_SCHEMA = "#/components/schemas/StatusResponse"
ACCEPTED_SCHEMA = "#/components/schemas/SubmitAccepted"


@dataclass
class Job:
    operation: SubmitOperation
    body: dict[str, Any]
    key: str
    request_id: str
    polling_url: str
    submitted_at: float
    webhook: str | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)
    last_poll: float = 0.0
    terminal: dict[str, Any] | None = None
    processing_since: float | None = None
    terminal_seen_at: float | None = None

    @property
    def num_images(self) -> int:
        value = self.body.get("num_images", 1) if self.operation.has_num_images else 1
        return int(value)

    @property
    def status(self) -> str | None:
        return self.bodies[-1].get("status") if self.bodies else None


def submit(
    run: Run,
    op: SubmitOperation,
    body: dict[str, Any],
    *,
    key: str | None = None,
    webhook: bool = False,
    scenario: str = "submit.valid",
) -> Job:
    """POST a valid body and check the 202 answer (status, body, polling_url, id)."""
    headers = run.headers(key)
    hook = None
    if webhook and run.receiver is not None:
        hook = run.receiver.url_for(op.operation_id)
        headers[WEBHOOK_HEADER] = hook
    with run.session.labelled(scenario):
        response = run.session.post(run.target.url(op.path), json=body, headers=headers, timeout=60)
    request_id, polling_url = verify_accepted(run, op, response.status_code, response.content)
    return Job(
        op, body, key or run.api_key or "", request_id, polling_url, time.monotonic(), webhook=hook
    )


def verify_accepted(
    run: Run, op: SubmitOperation, status: int, content: bytes, v: Verifier | None = None
) -> tuple[str, str]:
    """Check the answer to a valid submit: 202, its body, polling_url and request id."""
    data = json_or_none(content)
    with run.book.verify(run.evidence()) as own:
        v = v or own
        v.expect(
            "SUBMIT-202",
            status == 202,
            f"{op.operation_id}: valid submit answered {status}, not 202",
        )
        if not 200 <= status < 300:
            return "", ""
        errors = run.contract.schema_errors(ACCEPTED_SCHEMA, data)
        v.expect("SUBMIT-BODY", not errors, f"202 body: {'; '.join(errors[:3])}")
        request_id = str(data.get("request_id", "")) if isinstance(data, dict) else ""
        polling_url = str(data.get("polling_url", "")) if isinstance(data, dict) else ""
        expected = run.target.url(STATUS_PREFIX + request_id)
        v.expect(
            "POLLING-URL",
            polling_url == expected,
            f"polling_url is {polling_url!r}, expected {expected!r}",
        )
        v.expect(
            "ID-PREFIX",
            request_id.startswith(op.slug + "_"),
            f"request_id {request_id!r} does not start with '{op.slug}_'",
        )
        first = run.request_ids.get(request_id)
        run.request_ids.setdefault(request_id, run.book.current)
        v.expect(
            "ID-UNIQUE",
            bool(request_id) and first is None,
            f"request_id {request_id!r} was already returned (to {first})",
        )
    return request_id, polling_url


def json_or_none(raw: bytes) -> Any:
    """The JSON in ``raw``, or None when it is not JSON (a wrong answer the checks report)."""
    import json

    try:
        return json.loads(raw)
    except ValueError:
        return None


def poll(run: Run, job: Job, url: str | None = None) -> dict[str, Any]:
    """One status read at the target's pace, checked against the lifecycle clauses."""
    wait = job.last_poll + run.poll_interval - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    job.last_poll = time.monotonic()
    with run.session.labelled("status.poll"):
        response = run.session.get(
            url or run.target.url(STATUS_PREFIX + job.request_id),
            headers=run.headers(job.key),
            timeout=60,
        )
    body = json_or_none(response.content)
    with run.book.verify(run.evidence()) as v:
        ok = v.expect(
            "RESPONSE-SCHEMA",
            response.status_code == 200 and isinstance(body, dict),
            f"status read answered {response.status_code}",
        )
        if ok:
            observe(run, job, body, v)
    return body if isinstance(body, dict) else {}


def observe(run: Run, job: Job, body: dict[str, Any], v: Verifier) -> None:
    errors = run.contract.schema_errors(STATUS_SCHEMA, body)
    v.expect("RESPONSE-SCHEMA", not errors, f"status body: {'; '.join(errors[:3])}")
    status = str(body.get("status"))
    previous = job.bodies[-1] if job.bodies else None
    v.expect(
        "MODEL-ID",
        body.get("model_id") == job.operation.slug and body.get("request_id") == job.request_id,
        f"model_id {body.get('model_id')!r} / request_id {body.get('request_id')!r}",
    )
    if previous is not None:
        before = str(previous.get("status"))
        v.expect(
            "STATUS-FORWARD",
            RANK.get(status, -1) >= RANK.get(before, -1),
            f"status went back from {before} to {status}",
        )
    if job.terminal is not None:
        changed = [
            f
            for f in ("status", "output", "error", "completed_at")
            if body.get(f) != job.terminal.get(f)
        ]
        v.expect(
            "TERMINAL-STABLE",
            not changed,
            f"terminal {job.terminal.get('status')} changed: {', '.join(changed)} (now {status})",
        )
    terminal = status in TERMINAL
    v.expect(
        "COMPLETED-AT",
        (body.get("completed_at") is not None) == terminal,
        f"status {status} with completed_at {body.get('completed_at')!r}",
    )
    output, error = body.get("output"), body.get("error")
    v.expect(
        "OUTPUT-IFF-COMPLETED",
        (output is not None) == (status == "COMPLETED")
        and isinstance(error, str) == (status in ("FAILED", "ERROR")),
        f"status {status} with output {'set' if output is not None else 'null'} "
        f"and error {error!r}",
    )
    if status == "COMPLETED" and isinstance(output, dict):
        urls = output.get("media_url") or []
        v.expect(
            "MEDIA-COUNT",
            len(urls) == job.num_images,
            f"{len(urls)} media URL(s) for num_images={job.num_images}",
        )
        v.expect(
            "MEDIA-TYPE",
            output.get("media_type") == job.operation.media_type,
            f"media_type {output.get('media_type')!r}, documented {job.operation.media_type!r}",
        )
    _check_timestamps(job, body, v)
    if status == "PROCESSING" and job.processing_since is None:
        job.processing_since = parse_timestamp(body.get("updated_at"))
    if terminal and job.terminal is None:
        job.terminal = body
        job.terminal_seen_at = time.monotonic()
    job.bodies.append(body)


def _check_timestamps(job: Job, body: dict[str, Any], v: Verifier) -> None:
    created = parse_timestamp(body.get("created_at"))
    updated = parse_timestamp(body.get("updated_at"))
    completed = parse_timestamp(body.get("completed_at"))
    problems = []
    if created is not None and updated is not None and updated < created:
        problems.append("updated_at < created_at")
    if completed is not None and updated is not None and completed < updated:
        problems.append("completed_at < updated_at")
    if job.bodies and job.bodies[0].get("created_at") != body.get("created_at"):
        problems.append("created_at changed")
    last_updated = parse_timestamp(job.bodies[-1].get("updated_at")) if job.bodies else None
    if last_updated is not None and updated is not None and updated < last_updated:
        problems.append("updated_at went back")
    v.expect(
        "TIMESTAMPS-ORDER",
        not problems,
        f"{', '.join(problems)}: created {body.get('created_at')}, updated "
        f"{body.get('updated_at')}, completed {body.get('completed_at')}",
    )


def wait_all(run: Run, jobs: list[Job]) -> None:
    """Poll every job (round robin) until terminal, then once more (the terminal state must
    not change); the clock is the job timeout."""
    deadline = time.monotonic() + run.job_timeout
    pending = [job for job in jobs if job.terminal is None]
    while pending:
        for job in pending:
            poll(run, job)
        pending = [job for job in pending if job.terminal is None]
        if pending and time.monotonic() > deadline:
            with run.book.verify(run.evidence()) as v:
                v.expect(
                    "STATUS-FORWARD",
                    False,
                    f"{len(pending)} job(s) not terminal after "
                    f"{run.job_timeout:.0f} s (last: {pending[0].status})",
                )
    for job in jobs:
        poll(run, job)
        created = parse_timestamp(job.terminal and job.terminal.get("created_at"))
        completed = parse_timestamp(job.terminal and job.terminal.get("completed_at"))
        if created is not None and completed is not None:
            run.timings.add(
                JobTiming(
                    job.operation.operation_id,
                    total=completed - created,
                    queued=None if job.processing_since is None else job.processing_since - created,
                    processing=None
                    if job.processing_since is None
                    else completed - job.processing_since,
                    observed=(job.terminal_seen_at or time.monotonic()) - job.submitted_at,
                )
            )
