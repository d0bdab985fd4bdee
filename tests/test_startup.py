"""Start-up stays cheap: what the first answer does not need is imported when first needed."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from mock_gateway.config.paths import fixtures_dir
from mock_gateway.config.schema import check_config
from server_process import ROOT

PROBE = """
import sys
from mock_gateway.cli import build_parser, settings_from_args
from mock_gateway.web.app import create_app
from mock_gateway.web.server import ConnectionLimits, GuardedServer
args = build_parser().parse_args(["serve", "--port", "0"])
GuardedServer(create_app(settings_from_args(args)), ConnectionLimits()).config.load()
late = ("httpx", "PIL", "jsonschema", "websockets")
print(" ".join(name for name in late if name in sys.modules))
"""


def test_serving_the_defaults_imports_neither_httpx_nor_pillow_nor_jsonschema() -> None:
    env = {"PATH": "/usr/bin:/bin"}  # no MOCK_GATEWAY_FIXTURES: the bundled, trusted files
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_the_bundled_keys_that_start_up_trusts_pass_the_config_check() -> None:
    with (fixtures_dir() / "keys.toml").open("rb") as handle:
        assert check_config(tomllib.load(handle)) == []  # no problems


def test_a_flag_still_goes_through_the_config_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_gateway", "serve", "--workers", "0", "--port", "0"],
        capture_output=True, text=True, cwd=ROOT, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "workers" in result.stderr
