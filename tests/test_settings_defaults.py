"""Each setting's default is written once, on its dataclass field."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mock_gateway.cli import build_parser
from mock_gateway.config.settings import Settings, from_mapping
from mock_gateway.core import CoreSettings, KeySettings


def test_a_setting_no_file_names_keeps_its_dataclass_default() -> None:
    loaded = from_mapping({})
    assert replace(loaded, core=replace(loaded.core, prices_usd={})) == Settings()


def test_a_key_without_a_balance_gets_the_dataclass_default() -> None:
    [key] = from_mapping({"keys": [{"key": "k"}]}).core.keys
    assert key == KeySettings("k")


def test_named_settings_reach_their_fields() -> None:
    loaded = from_mapping(
        {
            "workers": 3,
            "rate_limits": {"submit": "2/m"},
            "control": {"journal_size": 7, "token": ""},
            "webhooks": {"max_attempts": 2, "allow_hosts": ["10.0.0.0/8"]},
        }
    )
    assert loaded.core.workers == 3 and str(loaded.core.default_rate_limits["submit"]) == "2/60s"
    assert loaded.journal_size == 7 and loaded.control_token is None
    assert loaded.webhooks.max_attempts == 2 and loaded.webhooks.allow_hosts == ("10.0.0.0/8",)
    assert loaded.core.safety_blocklist == CoreSettings().safety_blocklist


def test_the_cli_help_shows_the_defaults_it_does_not_repeat(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert f"(default {Settings().journal_size})" in shown
