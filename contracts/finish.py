"""Checks on a finished job: its images, its polling_url, its privacy and its webhook."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from seedream_contracts.jobs import Job, json_or_none, poll
from seedream_contracts.media import PIL_FORMATS, inspect_image, size_rule
from seedream_contracts.run import Run
from seedream_contracts.spec import STATUS_PREFIX

NOT_FOUND_SCHEMA = "#/components/responses/RequestNotFound/content/application~1json/schema"
WEBHOOK_WAIT = 15.0  # only ever waited in full when no callback comes


def check_media(run: Run, job: Job) -> None:
    """Every media URL downloads an image of the documented type and the requested size."""
    output = (job.terminal or {}).get("output") or {}
    rule = size_rule(job.operation, job.body)
    expected_type = job.operation.media_type
    for url in output.get("media_url") or []:
        scheme = urlsplit(str(url)).scheme
        with run.book.verify(run.evidence()) as v:
            if not v.expect(
                "MEDIA-DOWNLOAD", scheme in ("http", "https"), f"media URL {url!r} is not http(s)"
            ):
                continue
        label = f"media {job.operation.operation_id} {rule.label}"
        expected = f"{rule.exact[0]}x{rule.exact[1]}" if rule.exact else None
        with run.session.labelled(label, expected_size=expected):
            response = run.session.get(str(url), timeout=120)  # no key: media is public
        with run.book.verify(run.evidence()) as v:
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
            facts = inspect_image(response.content)
            v.expect(
                "MEDIA-DOWNLOAD",
                response.status_code == 200
                and content_type == expected_type
                and facts.format == PIL_FORMATS.get(expected_type),
                f"{url}: HTTP {response.status_code}, Content-Type {content_type!r}, "
                f"decoded as {facts.format or facts.error}; documented {expected_type}",
            )
            if facts.format is not None:
                problem = rule.problem(facts.width, facts.height)
                v.expect("MEDIA-SIZE", problem is None, f"{url}: {problem}")


def check_polling_url(run: Run, job: Job) -> None:
    """The polling_url answers exactly what the status endpoint answers (after terminal,
    when neither can still change)."""
    parts = urlsplit(job.polling_url)
    if f"{parts.scheme}://{parts.netloc}" != run.target.origin:
        return  # POLLING-URL already failed; never send the key to another host
    via_status = poll(run, job)
    via_polling_url = poll(run, job, url=job.polling_url)
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "POLLING-URL-SAME",
            via_polling_url == via_status,
            f"polling_url answered {json.dumps(via_polling_url)[:200]}, status endpoint "
            f"{json.dumps(via_status)[:200]}",
        )


def check_isolation(run: Run, job: Job) -> None:
    """Another valid key gets 404 for this job, in a documented error shape."""
    other = run.other_key
    if not other or other == job.key:
        return
    with run.session.labelled("status.other-key"):
        response = run.session.get(
            run.target.url(STATUS_PREFIX + job.request_id), headers=run.headers(other), timeout=60
        )
    body = json_or_none(response.content)
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "KEY-ISOLATION",
            response.status_code == 404,
            f"another key read {job.request_id}: HTTP {response.status_code}",
        )
        errors = run.contract.schema_errors(NOT_FOUND_SCHEMA, body)
        v.expect(
            "RESPONSE-SCHEMA",
            response.status_code != 404 or not errors,
            f"404 body: {'; '.join(errors[:2])}",
        )


def check_webhook(run: Run, job: Job) -> bool:
    """The callback's body equals the final status body. False when none arrived."""
    if job.webhook is None or run.receiver is None or job.terminal is None:
        return True
    deliveries = run.receiver.wait_for(job.request_id, WEBHOOK_WAIT)
    if not deliveries:
        return False
    final = poll(run, job)
    body = deliveries[0].json()
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "WEBHOOK-BODY",
            body == final,
            f"callback body {json.dumps(body)[:300]} differs from the final status body "
            f"{json.dumps(final)[:300]}",
        )
        v.expect(
            "WEBHOOK-BODY",
            len(deliveries) == 1,
            f"{len(deliveries)} callbacks for one request (documented: one)",
        )
    return True
