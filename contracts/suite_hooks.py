"""pytest front end of the contract suite (``pytest contracts/ --gateway-url ...``); the
suite's ``conftest.py`` loads these hooks once the ``contracts`` extra is known to be there.

``python -m seedream_contracts`` runs exactly this, through ``pytest.main``. The hooks here open the
target once, plan the run (order, budget, requirements), tell the spend guard and the clause
book which check is running, and write the report at the end.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from seedream_contracts.guard import usd
from seedream_contracts.known_bugs import known_bug_mark
from seedream_contracts.options import SPECS, OptionError, Options, argparse_kwargs
from seedream_contracts.plan import Plan, granted_parts, item_clauses, make_plan, planned_cost
from seedream_contracts.report import build_report, report_paths, write_report
from seedream_contracts.run import Run
from seedream_contracts.target import TargetError
from seedream_contracts.transport import UnsafeRequest
from seedream_contracts.verdicts import CheckRecord

CONTRACTS_DIR = Path(__file__).resolve().parent
RUN_KEY = pytest.StashKey[Run]()
PLAN_KEY = pytest.StashKey[Plan]()
MARKERS = (
    "contract_cost(usd): the most this contract check may spend",
    "contract_needs(*what): what the check needs (api_key, broke_key, control, ...)",
    "contract_clauses(*ids): the contract clauses the check verifies",
    "contract_last: run after every other contract check",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "Seedream gateway contract suite")
    for spec in SPECS:
        group.addoption(spec.flag, **argparse_kwargs(spec))


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)


def _is_contract(item: pytest.Item) -> bool:
    return CONTRACTS_DIR in Path(str(item.path)).resolve().parents


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if _is_contract(item)]
    if not mine:
        return
    try:
        options = Options.from_values({s.dest: config.getoption(s.dest) for s in SPECS})
        run = Run.open(options)
    except (OptionError, TargetError) as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[RUN_KEY] = run
    have = {
        name
        for name, ok in {
            "api_key": run.api_key,
            "broke_key": run.broke_key,
            "other_key": run.other_key and run.other_key != run.api_key,
            "control": run.control is not None,
            "loopback": run.receiver is not None,
        }.items()
        if ok
    }
    config.stash[PLAN_KEY] = make_plan(mine, options, run.guard.budget, have)
    if run.target.kind == "mock":
        for item in mine:
            mark = known_bug_mark(item.name)
            if mark is not None:
                item.add_marker(mark)
    items[:] = [item for item in items if not _is_contract(item)] + mine


@pytest.fixture(scope="session")
def run(request: pytest.FixtureRequest) -> Run:
    """The suite's run: target, session, guard and clause book."""
    return request.config.stash[RUN_KEY]


@pytest.fixture
def granted(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The parts of a ``cost_parts`` check the budget allows, cheapest first."""
    return granted_parts(request.node)


def pytest_runtest_setup(item: pytest.Item) -> None:
    run = item.config.stash.get(RUN_KEY, None)
    if run is not None and _is_contract(item):
        run.guard.begin_check(item.nodeid, planned_cost(item))
        run.book.current = item.nodeid


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    run = item.config.stash.get(RUN_KEY, None)
    if run is None or not _is_contract(item):
        return report
    record = run.book.checks.setdefault(
        item.nodeid,
        CheckRecord(clauses=item_clauses(item), declared_usd=str(planned_cost(item))),
    )
    if hasattr(report, "wasxfail"):
        record.outcome = "xfailed" if report.skipped else "xpassed"
        record.reason = f"known mock bug: {report.wasxfail}"
    elif report.skipped and record.outcome != "failed":
        record.outcome = "skipped"
        longrepr: Any = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        record.reason = reason.removeprefix("Skipped: ")
    elif report.failed:
        record.outcome = "failed"
        # A strict xfail that passed has no exception: its longrepr says "[XPASS(strict)]".
        record.reason = (call.excinfo.exconly() if call.excinfo else str(report.longrepr))[:600]
        if call.excinfo is not None and call.excinfo.errisinstance(UnsafeRequest):
            run.book.record("SAFE-URLS", False, record.reason)
    elif report.when == "call" and record.outcome != "failed":
        record.outcome = "passed"
    record.duration += report.duration
    if report.when == "teardown":
        run.guard.end_check()
        run.book.current = "(outside any check)"
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is None:
        return
    try:
        plan = session.config.stash[PLAN_KEY]
        report = build_report(run, plan, int(exitstatus))
        session.config.stash[REPORT_KEY] = report
        if run.recorder is not None:
            run.recorder.close(report["timing"], run.describe_target())
        if run.options.report is not None:
            write_report(report, run.options.report)
    finally:
        run.close()


REPORT_KEY = pytest.StashKey[dict[str, Any]]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(REPORT_KEY, None)
    if report is None:
        return
    write = terminalreporter.write_line
    spend = report["spend"]
    counts = report["summary"]["clauses"]
    terminalreporter.section("contract suite")
    write(f"target: {report['target']['kind']} {report['target']['base_url']}")
    write(
        f"clauses: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped"
    )
    for clause in report["clauses"]:
        if clause["verdict"] == "failed":
            write(f"  FAILED {clause['id']}: {clause['reason'][:200]}")
    budget = spend["budget_usd"]
    write(
        f"spend: {usd(_dec(spend['spent_usd']))} spent of "
        f"{'unlimited' if budget is None else usd(_dec(budget))}; declared "
        f"{usd(_dec(spend['declared_total_usd']))}; "
        f"{len(spend['skipped_for_budget'])} check(s) skipped for budget"
    )
    if config.getoption("contracts_report"):
        json_path, md_path = report_paths(Path(config.getoption("contracts_report")))
        write(f"report: {json_path} and {md_path}")


def _dec(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)
