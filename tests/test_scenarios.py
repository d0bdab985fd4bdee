"""Scenarios: the bundled worlds load and behave; a broken one is refused at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway_helpers import KEY, T2I
from mock_gateway.cli import build_parser, settings_from_args
from mock_gateway.config.scenarios import available, scenario_path
from mock_gateway.config.settings import ConfigError, Settings
from mock_helpers import running

REQUIRED = {"default", "realistic", "flaky", "busy", "rate-limited", "broke"}


def test_the_required_scenarios_ship_with_descriptions() -> None:
    bundled = available()
    assert set(bundled) >= REQUIRED
    assert all(bundled[name] for name in REQUIRED)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_every_bundled_scenario_loads(name: str) -> None:
    settings = Settings.load(scenario=name)
    assert f"scenarios/{name}.toml" in settings.source


def test_scenarios_set_what_they_promise() -> None:
    assert Settings.load(scenario="busy").core.workers == 2
    assert Settings.load(scenario="realistic").core.timing.name == "realistic"
    flaky = Settings.load(scenario="flaky")
    assert {spec.status for spec in flaky.faults} >= {500, 503} and flaky.core.seed == 7
    balances = {key.key: key.balance_usd for key in Settings.load(scenario="broke").core.keys}
    assert balances["test-key"] == 0 and balances["limited-key"] == 0


@pytest.mark.anyio
async def test_broke_scenario_answers_402() -> None:
    async with running(Settings.load(scenario="broke", seed=1)) as mock:
        response = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
    assert response.status_code == 402


@pytest.mark.anyio
async def test_flaky_scenario_fails_some_calls_the_same_way_every_run() -> None:
    outcomes = []
    for _ in range(2):
        async with running(Settings.load(scenario="flaky")) as mock:
            await mock.control("POST", "/faults", [])  # (an empty list adds nothing)
            codes = [
                (await mock.http.post(T2I, json={"prompt": f"p{i}"}, headers=KEY)).status_code
                for i in range(20)
            ]
        outcomes.append(codes)
    assert outcomes[0] == outcomes[1] and {202, 500} <= set(outcomes[0])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ('timing = "fast"\nworkers = = 2\n', ["line 2"]),
        ('timing = "fast"\n\n[webhooks]\nmax_atempts = 3\n', ["line 4", "max_atempts"]),
        ('[[keys]]\nkey = "a"\n\n[[keys]]\nkey = "b"\nbalance_usd = "x"\n', ["line 6", "keys.1"]),
        ("[[faults]]\nstatus = 500\n\n[[faults]]\nstatus = 700\n", ["line 5", "faults.1.status"]),
        ("[[faults]]\ntimes = 2\n", ["line 1", "faults.0", "needs an action"]),
        ('[rate_limits]\nsubmit = "lots"\n', ["rate_limits.submit"]),
        ('[webhooks]\nsigning_secret = "whsec_!!"\n', ["webhooks.signing_secret"]),
    ],
)
def test_a_malformed_scenario_names_file_line_or_key_and_problem(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        Settings.load(scenario=path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_unknown_scenario_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"known: .*flaky"):
        scenario_path("flakey")


def test_serve_refuses_a_malformed_scenario_at_start(tmp_path: Path) -> None:
    path = write(tmp_path, "[[faults]]\nstatus = 500\nprobability = 3\n")
    command = [sys.executable, "-m", "mock_gateway", "serve", "--port", "0", "--scenario"]
    result = subprocess.run(
        [*command, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert str(path) in result.stderr and "faults.0.probability" in result.stderr
    assert "line 3" in result.stderr


def test_cli_flags_reach_the_settings() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--scenario",
            "busy",
            "--no-control",
            "--control-token",
            "t0k",
            "--webhook-allow-host",
            "hooks.example.test",
            "--webhook-allow-host",
            "10.0.0.0/8",
            "--webhook-secret",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "--webhook-attempts",
            "3",
            "--journal-size",
            "50",
            "--seed",
            "9",
        ]
    )
    settings = settings_from_args(args)
    assert settings.core.workers == 2 and settings.core.seed == 9
    assert not settings.control_enabled and settings.control_token == "t0k"
    assert settings.webhooks.allow_hosts == ("hooks.example.test", "10.0.0.0/8")
    assert settings.webhooks.max_attempts == 3 and settings.webhooks.signing_secret
    assert settings.journal_size == 50
