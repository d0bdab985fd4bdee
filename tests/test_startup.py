"""Start-up stays cheap: what the first answer does not need is imported when first needed."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mock_gateway.config.paths import fixtures_dir
from mock_gateway.config.schema import check_config
from seedream_contracts import openapi_path
from seedream_contracts.document import read_document
from server_process import ROOT

PROBE = """
import sys
from mock_gateway.cli import build_parser, settings_from_args
from mock_gateway.web.app import create_app
from mock_gateway.web.server import ConnectionLimits, GuardedServer
args = build_parser().parse_args(["serve", "--port", "0", *sys.argv[1:]])
GuardedServer(create_app(settings_from_args(args)), ConnectionLimits()).config.load()
late = ("httpx", "PIL", "jsonschema", "fastjsonschema", "yaml", "sqlite3", "websockets",
        "mock_gateway.persistence.codec", "seedream_contracts.options")
print(" ".join(name for name in late if name in sys.modules))
from mock_gateway.validation import urls
if urls._compiled.cache_info().currsize:
    print("URL-patterns-compiled")
"""
CONFIG = """
workers = 4
[[keys]]
key = "mine"
balance_usd = "10"
rate_limits = { submit = "100/s", status = "100/s" }
[webhooks]
allow_hosts = ["10.0.0.0/8"]
"""


def imported_by_start_up(*args: str) -> list[str]:
    read_document(
        openapi_path()
    )  # the contract's parsed copy exists (a fresh clone's first run writes it)
    env = {"PATH": "/usr/bin:/bin"}  # no MOCK_GATEWAY_FIXTURES: the bundled, trusted files
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_serving_the_defaults_imports_none_of_the_heavy_modules() -> None:
    assert imported_by_start_up() == []


@pytest.mark.parametrize("option", ["--config", "--scenario"])
def test_a_valid_config_file_is_checked_without_jsonschema(tmp_path: Path, option: str) -> None:
    path = tmp_path / "mock.toml"
    path.write_text(CONFIG)
    assert imported_by_start_up(option, str(path)) == []


def test_the_bundled_keys_that_start_up_trusts_pass_the_config_check() -> None:
    with (fixtures_dir() / "keys.toml").open("rb") as handle:
        assert check_config(tomllib.load(handle)) == []  # no problems


def test_a_flag_still_goes_through_the_config_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_gateway", "serve", "--workers", "0", "--port", "0"],
        capture_output=True, text=True, cwd=ROOT, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "workers" in result.stderr


def test_start_up_runs_without_the_cyclic_gc_and_serving_with_it() -> None:
    probe = """
import gc, sys
import mock_gateway.web.app as app_module
from mock_gateway import cli
seen = {}
real = cli.settings_from_args
def spy(args):
    seen["while starting"] = gc.isenabled()
    return real(args)
cli.settings_from_args = spy
def stop(*args, **kwargs):
    from starlette.testclient import TestClient
    with TestClient(app_module.create_app(owns_process=True)) as client:  # its lifespan
        client.get("/_health")
        seen["while serving"] = gc.isenabled()
    raise KeyboardInterrupt
cli.serve = stop
code = cli.main(["serve", "--port", "0"])
print(code, seen["while starting"], seen["while serving"], gc.isenabled())
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "False", "True", "True"]


def test_a_refused_start_leaves_the_callers_gc_as_it_was() -> None:
    import gc

    from mock_gateway.cli import main

    assert gc.isenabled()
    assert main(["serve", "--workers", "0", "--port", "0"]) == 2
    assert gc.isenabled()
    gc.disable()
    try:
        assert main(["serve", "--workers", "0", "--port", "0"]) == 2
        assert not gc.isenabled()
    finally:
        gc.enable()
