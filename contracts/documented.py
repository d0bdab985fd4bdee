"""The documented examples as a recording: the first, reference, recording of the gateway.

Built from ``openapi.yaml`` (its request, response and status examples) and the few facts
only the documentation's prose holds (the edit and byteplus status examples, the byteplus
402 text, the example durations). Regenerate with
``python -m seedream_contracts documented [DIR]`` (default ``fixtures/recordings/documented``); a
test keeps the committed copy in step with this module.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seedream_contracts.media import size_rule
from seedream_contracts.recording import FORMAT, Recorder, write_index
from seedream_contracts.spec import STATUS_PATH, load_contract
from seedream_contracts.timing import DOCUMENTED_SECONDS

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "recordings" / "documented"
R2 = "https://pub-582b7213209642b9b995c96c95a30381.r2.dev"
JSON = {"content-type": "application/json"}
REQUEST_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-cache",
    "Ocp-Apim-Subscription-Key": "<api-key>",
}
DOCS = "https://www.pixazo.ai/models/seedream"


def _component_example(path: str) -> Any:
    """A node of the contract by a slash path (``application/json`` is one step)."""
    node: Any = load_contract().document
    for part in path.replace("application/json", "application~1json").split("/"):
        node = node[part.replace("~1", "/")]
    return node


def _status_examples() -> list[tuple[str, dict[str, Any], str]]:
    """(operation, body, source) of every documented status body."""
    get = load_contract().document["paths"][STATUS_PATH]["get"]
    examples = get["responses"]["200"]["content"]["application/json"]["examples"]
    edit_id = "seedream-5-0-lite-edit_019dxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    byteplus_id = "byteplus_019dxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    queued = {
        "request_id": edit_id,
        "status": "QUEUED",
        "model_id": "seedream-5-0-lite-edit",
        "error": None,
        "output": None,
        "created_at": "2026-04-17T11:41:07.503Z",
        "updated_at": "2026-04-17T11:41:07.503Z",
        "completed_at": None,
    }
    return [
        ("liteTextToImageSubmit", examples["completed"]["value"], "openapi.yaml getStatus"),
        ("byteplusEditSubmit", examples["error"]["value"], "openapi.yaml getStatus"),
        (
            "liteEditSubmit",
            {
                "request_id": edit_id,
                "status": "COMPLETED",
                "model_id": "seedream-5-0-lite-edit",
                "error": None,
                "output": {
                    "media_url": [f"{R2}/v1/{edit_id}/output.png"],
                    "media_type": "image/png",
                },
                "created_at": "2026-04-17T11:41:07.503Z",
                "updated_at": "2026-04-17T11:42:15.000Z",
                "completed_at": "2026-04-17T11:42:15.000Z",
            },
            DOCS,
        ),
        (
            "byteplusTextToImageSubmit",
            {
                "request_id": byteplus_id,
                "status": "COMPLETED",
                "model_id": "byteplus",
                "error": None,
                "output": {
                    "media_url": [f"{R2}/byteplus/1776429228529-aq8fsc3s5k7-1.jpg"],
                    "media_type": "image/jpeg",
                },
                "created_at": "2026-04-17T12:33:13.000Z",
                "updated_at": "2026-04-17T12:33:13.000Z",
                "completed_at": "2026-04-17T12:33:13.000Z",
            },
            DOCS,
        ),
        (
            "liteEditSubmit",
            queued,
            f"{DOCS}: Response Fields table (completed_at null until "
            "done, output null until COMPLETED)",
        ),
    ]


def _exchange(
    operation: str,
    scenario: str,
    method: str,
    path: str,
    status: int,
    body: Any,
    source: str,
    request_body: Any = None,
    headers: dict[str, str] | None = None,
    response_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "operation": operation,
        "scenario": scenario,
        "check": "documented",
        "source": source,
        "request": {
            "method": method,
            "url": "{gateway}" + path,
            "headers": dict(REQUEST_HEADERS if headers is None else headers),
            "body": request_body,
        },
        "response": {"status": status, "headers": response_headers or JSON, "body": body},
    }


def build() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    contract = load_contract()
    apim = "components/responses/Unauthorized/content/application/json/examples"
    missing = _component_example(f"{apim}/missingKey/value")
    invalid = _component_example(f"{apim}/invalidKey/value")
    lite_402 = _component_example(
        "components/responses/InsufficientBalance/content/application/json/example"
    )
    fixtures: list[dict[str, Any]] = []
    for op in contract.submits.values():
        request_id = f"{op.slug}_019dxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
        accepted = {
            "request_id": request_id,
            "status": "QUEUED",
            "polling_url": f"https://gateway.pixazo.ai/v2/requests/status/{request_id}",
        }
        example = dict(op.example)
        add = fixtures.append
        add(
            _exchange(
                op.operation_id,
                "submit.example",
                "POST",
                op.path,
                202,
                accepted,
                "openapi.yaml example + docs Output",
                example,
            )
        )
        required = "0.035" if op.slug != "byteplus" else "0.04"  # the docs' 402 examples
        body_402 = dict(
            lite_402, message=f"Your wallet does not have enough balance. Required: ${required}"
        )
        add(
            _exchange(
                op.operation_id,
                "submit.broke-key",
                "POST",
                op.path,
                402,
                body_402,
                DOCS,
                example,
                dict(REQUEST_HEADERS, **{"Ocp-Apim-Subscription-Key": "<broke-key>"}),
            )
        )
        no_key = {k: v for k, v in REQUEST_HEADERS.items() if k != "Ocp-Apim-Subscription-Key"}
        add(
            _exchange(
                op.operation_id,
                "submit.missing-key",
                "POST",
                op.path,
                401,
                missing,
                "openapi.yaml Unauthorized example (APIM)",
                example,
                no_key,
            )
        )
        add(
            _exchange(
                op.operation_id,
                "submit.invalid-key",
                "POST",
                op.path,
                401,
                invalid,
                "openapi.yaml Unauthorized example (APIM)",
                example,
                dict(REQUEST_HEADERS, **{"Ocp-Apim-Subscription-Key": "<invalid-key>"}),
            )
        )
        rule = size_rule(op, example)
        add(
            _exchange(
                op.operation_id,
                f"media {op.operation_id} {rule.label}",
                "GET",
                f"/<cdn>/{request_id}/output",
                200,
                None,
                "x-media-type",
                None,
                {},
                {"content-type": op.media_type},
            )
        )
    for _operation, body, source in _status_examples():
        path = STATUS_PATH.replace("{request_id}", body["request_id"])
        fixtures.append(_exchange("getStatus", "status.poll", "GET", path, 200, body, source))
    not_found = _component_example(
        "components/responses/RequestNotFound/content/application/json/example"
    )
    fixtures.append(
        _exchange(
            "getStatus",
            "status.unknown",
            "GET",
            "/v2/requests/status/byteplus_019dxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            404,
            not_found,
            "openapi.yaml RequestNotFound example",
        )
    )
    fixtures.append(
        _exchange(
            "other",
            "route.unknown",
            "GET",
            "/v1/no-such-route",
            404,
            {"statusCode": 404, "message": "Resource not found"},
            "docs/gateway-facts.md#b1 (APIM)",
        )
    )
    for number, fixture in enumerate(fixtures, start=1):
        fixture["seq"] = number
    timing = {
        op: {"created_to_completed_s": {"count": 1, "min": s, "median": s, "max": s}}
        for op, s in DOCUMENTED_SECONDS.items()
    }
    index = {
        "format": FORMAT,
        "recorded_at": "2026-04-17T00:00:00Z",
        "target": {
            "kind": "documented",
            "base_url": "https://gateway.pixazo.ai",
            "sources": ["contracts/openapi.yaml", DOCS],
        },
        "timing": timing,
    }
    return index, fixtures


def write(directory: Path) -> None:
    index, fixtures = build()
    if (directory / "exchanges").exists():
        shutil.rmtree(directory / "exchanges")
    recorder = Recorder(directory, index["target"])
    for fixture in fixtures:
        recorder.write(fixture)
    write_index(directory, {**index, "exchanges": recorder.names})


def main(argv: Sequence[str]) -> int:
    directory = Path(argv[0]) if argv else DEFAULT_DIR
    write(directory)
    print(f"wrote the documented recording to {directory}", file=sys.stderr)
    return 0
