"""``make mutation``'s verdict (mutation/run.py), on made-up mutmut results."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_judge() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_run", ROOT / "mutation" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


judge_module = load_judge()
KILLED = {f"m.x_f__mutmut_{n}": "killed" for n in range(1, 20)}


def test_passes_when_every_survivor_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    found = {**KILLED, "m.x_f__mutmut_20": "survived"}
    assert judge_module.judge(found, {"m.x_f__mutmut_20": "why"}, []) == []
    assert "19/20 killed = 95.0%" in capsys.readouterr().out


@pytest.mark.parametrize("status", ["survived", "no tests", "suspicious (exit 139)"])
def test_an_unlisted_mutant_that_is_not_killed_fails(status: str) -> None:
    problems = judge_module.judge({**KILLED, "m.x_g__mutmut_1": status}, {}, [])
    assert problems == [f"m.x_g__mutmut_1: {status} and not listed as equivalent"]


def test_a_listed_mutant_that_is_killed_or_gone_fails() -> None:
    listed = {"m.x_f__mutmut_1": "was equivalent", "m.x_gone__mutmut_1": "old"}
    problems = judge_module.judge(KILLED, listed, [])
    assert any("m.x_f__mutmut_1: listed as equivalent but killed" in p for p in problems)
    assert any("m.x_gone__mutmut_1: listed as equivalent but no such mutant" in p for p in problems)


def test_below_ninety_percent_fails_even_when_every_survivor_is_listed() -> None:
    found = {"a": "killed", "b": "survived"}
    assert judge_module.judge(found, {"b": "why"}, []) == ["score 50.0% is below 90%"]


def test_a_selection_judges_only_its_mutants() -> None:
    found = {**KILLED, "other.x_h__mutmut_1": "survived"}
    assert judge_module.judge(found, {}, ["m.*"]) == []


def test_every_equivalent_mutant_needs_a_reason(tmp_path: Path) -> None:
    listing = tmp_path / "equivalent.txt"
    listing.write_text("# comment\n\nm.x_f__mutmut_1  # a reason\n")
    assert judge_module.read_equivalent(listing) == {"m.x_f__mutmut_1": "a reason"}
    listing.write_text("m.x_f__mutmut_2\n")
    with pytest.raises(SystemExit, match="needs a reason"):
        judge_module.read_equivalent(listing)


def test_the_shipped_list_reads_and_the_modules_come_from_pyproject() -> None:
    assert all(judge_module.read_equivalent().values())
    assert judge_module.mutated_modules() == ["mock_gateway/core/*", "mock_gateway/pipeline/*"]


@pytest.mark.parametrize("code", [36, -24, 24, 152, 255])
def test_a_mutant_stopped_for_using_too_much_cpu_counts_as_killed(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mutmut reads these exit codes as a timeout (SIGXCPU: CPU time, not wall time)."""
    meta = tmp_path / "mutants" / "mock_gateway" / "core" / "x.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": {"a": code, "b": 0, "c": 1}}))
    monkeypatch.setattr(judge_module, "ROOT", tmp_path)
    found = judge_module.results(["mock_gateway/core/*"])
    assert found == {"a": "timeout", "b": "survived", "c": "killed"}


def test_mutmut_runs_with_two_test_processes_unless_told() -> None:
    command = judge_module.mutmut_command
    assert command(Path("mutmut"), ["m.*"], {}) == ["mutmut", "run", "--max-children", "2", "m.*"]
    one = command(Path("mutmut"), [], {"MUTATION_CHILDREN": "1"})
    assert one == ["mutmut", "run", "--max-children", "1"]
    with pytest.raises(SystemExit, match="MUTATION_CHILDREN"):
        command(Path("mutmut"), [], {"MUTATION_CHILDREN": "0"})
