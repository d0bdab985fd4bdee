"""The contract and the control API's document, held to tools nobody here wrote.

* openapi-spec-validator: both documents are valid OpenAPI 3.1 (a ``links`` map at the
  operation level, or a YAML slip that turns a description into a key, fails here);
* the shapes client generators trip over are kept out of the served ``/openapi.json``;
* Spectral's ``spectral:oas`` ruleset reports no error, when node and the CLI are there.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from seedream_contracts import openapi_path

ROOT = Path(__file__).resolve().parent.parent
CONTROL = ROOT / "mock_gateway" / "web" / "control-openapi.yaml"
DOCUMENTS = {"contract": openapi_path(), "control": CONTROL}


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _walk(node: Any, where: str = "#") -> Any:
    yield where, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_openapi_3_1(name: str) -> None:
    document = _load(DOCUMENTS[name])
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises OpenAPIValidationError naming the offending node


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_no_shape_that_client_generators_cannot_read(name: str) -> None:
    """openapi-python-client cannot follow a ``$ref`` as a callback; openapi-generator reads a
    pattern that starts with ``/`` as ``/regex/flags``, and cannot build a model from
    ``oneOf: [X, {type: null}]``. All three are valid OpenAPI, so only this test keeps them out."""
    problems: list[str] = []
    for where, node in _walk(_load(DOCUMENTS[name])):
        if not isinstance(node, dict):
            continue
        for callback in (node.get("callbacks") or {}).values():
            if isinstance(callback, dict) and "$ref" in callback:
                problems.append(f"{where}/callbacks: a $ref callback")
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern.startswith("/"):
            problems.append(f"{where}/pattern: starts with '/' ({pattern!r})")
        for combinator in ("oneOf", "anyOf"):
            branches = node.get(combinator)
            if isinstance(branches, list) and {"type": "null"} in branches:
                problems.append(f"{where}/{combinator}: a {{type: null}} branch")
    assert not problems, "\n".join(problems)


def _spectral() -> list[str] | None:
    local = shutil.which("spectral")
    if local:
        return [local]
    return None


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_spectral_oas_reports_no_error(name: str, tmp_path: Path) -> None:
    command = _spectral()
    if command is None:
        pytest.skip("spectral not on PATH (npm install -g @stoplight/spectral-cli)")
    ruleset = tmp_path / ".spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n')
    result = subprocess.run(
        [*command, "lint", "--ruleset", str(ruleset), "--format", "json", "--quiet",
         str(DOCUMENTS[name])],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    text = result.stdout.strip()
    findings = json.loads(text[text.index("[") :]) if "[" in text else []
    errors = [f for f in findings if f.get("severity") == 0]
    assert not errors, "\n".join(
        f"{'/'.join(map(str, f['path']))}: {f['code']}: {f['message']}" for f in errors
    )


def test_served_document_keeps_the_regexes_anchored() -> None:
    """The polling URL pattern must still match what the mock answers (it is no longer
    written with a leading ``/`` for openapi-generator's sake)."""
    schema = _load(openapi_path())["components"]["schemas"]["SubmitAccepted"]
    pattern = schema["properties"]["polling_url"]["pattern"]
    url = "https://gateway.pixazo.ai/v2/requests/status/byteplus_0123"
    assert re.search(pattern, url)
    assert not re.search(pattern, "https://gateway.pixazo.ai/v2/requests/status/")


def test_control_fault_rule_schema_states_what_parse_rule_accepts() -> None:
    """Schemathesis found rules the document allowed and the mock refused (no action, 3.0
    for an integer, null for "not given"): the deciding fields get the same answers."""
    from jsonschema import Draft202012Validator

    from mock_gateway.config.settings import fault_endpoints
    from mock_gateway.steering.faults import FaultError, parse_rule

    components = _load(CONTROL)["components"]
    schema = {"$ref": "#/components/schemas/FaultRule", "components": components}
    validator = Draft202012Validator(schema)
    endpoints = fault_endpoints()
    values: dict[str, list[Any]] = {
        "status": [None, 500, 429.0],
        "outcome": [None, "ERROR", "failed"],
        "drop_connection": [None, True, False],
        "latency_ms": [None, 0, 5],
        "endpoint": [None, "status", "submit", "bogus"],
        "error": [None, "x"],
        "body": [None, {"a": 1}],
        "headers": [None, {}, {"a": "b"}],
        "retry_after": [None, 0, 3],
    }
    absent = object()  # None stands for JSON null: the mock reads it as "not given"
    combinations = list(itertools.product(*([absent, *v] for v in values.values())))
    for combination in combinations[::17]:  # a spread-out tenth of 184,320: a few seconds
        rule = {n: v for n, v in zip(values, combination, strict=True) if v is not absent}
        try:
            parse_rule(rule, endpoints)
            accepted = True
        except FaultError:
            accepted = False
        assert validator.is_valid(rule) == accepted, rule


def test_every_control_change_documents_the_unsaved_503() -> None:
    """With ``serve --state FILE`` each state-changing control call commits before it
    answers, and a commit that fails is a 503 (``mock_gateway/web/persisted.py``)."""
    paths = _load(CONTROL)["paths"]
    changes = [
        (path, method)
        for path, item in paths.items()
        for method in item
        if method in ("post", "put", "patch", "delete")
    ]
    assert changes
    undocumented = [c for c in changes if "503" not in paths[c[0]][c[1]]["responses"]]
    assert undocumented == []
