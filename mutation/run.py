"""``make mutation``: run mutmut over the modules of ``[tool.mutmut] only_mutate`` and judge.

Passes when at least ``THRESHOLD`` of all mutants are killed and every mutant that is not
killed is listed in ``mutation/equivalent.txt`` with the reason it cannot change behaviour.
A listed mutant that is now killed (or no longer exists) fails too, so the list stays true.

    python mutation/run.py                       # every module, from a clean mutants/
    python mutation/run.py 'mock_gateway.core.wallet*'   # one module while working on it
    MUTATION_CHILDREN=1 python mutation/run.py         # mutmut's test processes (default 2)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Mapping
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "mutation" / "equivalent.txt"
THRESHOLD = 0.90
# mutmut's own reading of a child's exit code (mutmut/stats.py); SIGXCPU is CPU time, not
# wall time, so a loaded machine does not turn a slow test into a "timeout"
TIMEOUT = {36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout"}
KILLED = {1: "killed", 3: "killed", 37: "caught by type check", **TIMEOUT}
# mutmut forks one test process per CPU unless told; a shared 2-core machine wants fewer
CHILDREN_DEFAULT = "2"
STATUS = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked"}


def mutated_modules() -> list[str]:
    """The ``only_mutate`` globs of pyproject.toml: the one list of what is mutation-tested."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def read_equivalent(path: Path = EQUIVALENT) -> dict[str, str]:
    """``<mutant name>  # <why it cannot change behaviour>`` per line; a reason is required."""
    listed: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, reason = line.partition("#")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: {name.strip()} needs a reason after '#'")
        listed[name.strip()] = reason.strip()
    return listed


def results(globs: list[str]) -> dict[str, str]:
    """Every mutant of the mutated modules with its status, from mutmut's ``.meta`` files."""
    found: dict[str, str] = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        source = meta.relative_to(ROOT / "mutants").with_suffix("")
        if not any(fnmatch(str(source), glob) for glob in globs):
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in codes.items():
            found[name] = KILLED.get(code) or STATUS.get(code, f"suspicious (exit {code})")
    return found


def judge(found: dict[str, str], listed: dict[str, str], selection: list[str]) -> list[str]:
    """The reasons to fail (empty when the run passes)."""
    chosen = {
        n: s for n, s in found.items() if not selection or any(fnmatch(n, p) for p in selection)
    }
    alive = sorted(n for n, status in chosen.items() if status not in KILLED.values())
    problems = [
        f"{name}: {chosen[name]} and not listed as equivalent"
        for name in alive
        if name not in listed
    ]
    for name in sorted(listed):
        if selection and not any(fnmatch(name, p) for p in selection):
            continue
        if name not in found:
            problems.append(f"{name}: listed as equivalent but no such mutant (stale line)")
        elif found[name] in KILLED.values():
            problems.append(f"{name}: listed as equivalent but killed (remove the line)")
    killed = len(chosen) - len(alive)
    score = killed / len(chosen) if chosen else 1.0
    counts = Counter(chosen.values())
    print(f"mutants: {len(chosen)}  " + "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"mutation score: {killed}/{len(chosen)} killed = {score:.1%}", end="")
    print(f"; {len(alive)} alive, all listed as equivalent" if not problems else "")
    if score < THRESHOLD:
        problems.append(f"score {score:.1%} is below {THRESHOLD:.0%}")
    return problems


def mutmut_command(mutmut: Path, selection: list[str], environ: Mapping[str, str]) -> list[str]:
    """``mutmut run`` with at most ``$MUTATION_CHILDREN`` test processes at once."""
    children = environ.get("MUTATION_CHILDREN", CHILDREN_DEFAULT)
    if not children.isdigit() or int(children) < 1:
        raise SystemExit(f"MUTATION_CHILDREN must be a whole number >= 1 (got {children!r})")
    return [str(mutmut), "run", "--max-children", children, *selection]


def main(argv: list[str]) -> int:
    selection = argv[1:]
    mutmut = Path(sys.executable).with_name("mutmut")
    if not selection:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)  # a full run measures afresh
    print(f"mutmut run {' '.join(selection) or '(every module)'}: this takes minutes", flush=True)
    command = mutmut_command(mutmut, selection, os.environ)
    run = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    if run.returncode != 0:
        print(f"mutmut run failed (exit {run.returncode}); rerun it to see why", file=sys.stderr)
        return run.returncode
    problems = judge(results(mutated_modules()), read_equivalent(), selection)
    for problem in problems:
        print(f"FAIL {problem}  (see: {mutmut.name} show <name>)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
