"""The parsed copy of the contract (``__pycache__/openapi.yaml.json``): used when current,
rebuilt when the YAML changes, never required."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from seedream_contracts import document as contract
from seedream_contracts import openapi_path

YAML = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\nx-price: 0.035\n"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths whose YAML was parsed (not read from the copy), in order."""
    seen: list[Path] = []
    parse = contract._parse_yaml

    def counting(source: bytes, path: Path) -> dict[str, object]:
        seen.append(path)
        return parse(source, path)

    monkeypatch.setattr(contract, "_parse_yaml", counting)
    return seen


def test_the_copy_is_written_once_and_then_read_instead_of_the_yaml(
    tmp_path: Path, parses: list[Path]
) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(YAML)
    first = contract.read_document(path)
    assert (tmp_path / "__pycache__" / "openapi.yaml.json").is_file()
    assert contract.read_document(path) == first == yaml.safe_load(YAML)
    assert parses == [path]
    assert [file.name for file in (tmp_path / "__pycache__").iterdir()] == ["openapi.yaml.json"]


def test_a_changed_yaml_is_parsed_again_even_at_the_same_size(
    tmp_path: Path, parses: list[Path]
) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(YAML)
    contract.read_document(path)
    path.write_text(YAML.replace("0.035", "0.045"))  # the same size: the stamp has a CRC too
    assert contract.read_document(path)["x-price"] == 0.045
    assert contract.read_document(path)["x-price"] == 0.045
    assert len(parses) == 2


@pytest.mark.parametrize("junk", [b"", b"{not json", b"[]", b'{"source": 1}', b"\xff\xfe"])
def test_a_broken_copy_is_ignored_and_replaced(
    tmp_path: Path, parses: list[Path], junk: bytes
) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(YAML)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "openapi.yaml.json").write_bytes(junk)
    assert contract.read_document(path) == yaml.safe_load(YAML)
    assert contract.read_document(path) == yaml.safe_load(YAML)
    assert len(parses) == 1  # the second read used the rewritten copy


def test_without_a_place_for_the_copy_the_yaml_is_parsed_each_time(
    tmp_path: Path, parses: list[Path]
) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(YAML)
    (tmp_path / "__pycache__").write_text("a file where the folder would go")
    assert contract.read_document(path) == contract.read_document(path) == yaml.safe_load(YAML)
    assert len(parses) == 2


@pytest.mark.parametrize("extra", ["when: 2026-01-02\n", "codes: {200: ok}\n", "n: .nan\n"])
def test_a_document_json_cannot_carry_unchanged_gets_no_copy(
    tmp_path: Path, parses: list[Path], extra: str
) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(YAML + extra)
    document = contract.read_document(path)
    assert not (tmp_path / "__pycache__" / "openapi.yaml.json").exists()
    assert contract.read_document(path).keys() == document.keys()
    assert len(parses) == 2


def test_the_bundled_contract_reads_the_same_from_its_copy() -> None:
    parsed = yaml.safe_load(openapi_path().read_text(encoding="utf-8"))
    assert contract.read_document(openapi_path()) == parsed  # writes the copy if missing
    assert contract.read_document(openapi_path()) == parsed  # reads it
