"""``mock-gateway proxy``: the command line (imports nothing heavy until it runs)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mock_gateway.proxy.settings import DEFAULT_PORT, ProxySettingsError


def add_proxy_parser(commands: Any, port_number: Any) -> None:
    """The ``proxy`` subcommand on the ``mock-gateway`` parser (``port_number`` is the
    serve command's port type, so both check ports alike)."""
    proxy = commands.add_parser(
        "proxy",
        help="a validating, recording, spend-capping proxy in front of a gateway",
        description="Forward the five submit endpoints and the status endpoint to --upstream, "
        "check requests and answers against the contract, cap the spend, optionally record.",
    )
    proxy.add_argument(
        "--upstream",
        required=True,
        metavar="URL",
        help="the gateway to forward to, e.g. https://gateway.pixazo.ai",
    )
    proxy.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    proxy.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free)",
    )
    proxy.add_argument(
        "--max-spend",
        metavar="USD",
        default=None,
        help="refuse submits that would take this session over USD",
    )
    proxy.add_argument(
        "--record",
        metavar="DIR",
        type=Path,
        default=None,
        help="save every exchange, sanitized, under DIR (contract suite format)",
    )
    proxy.add_argument(
        "--reject-invalid",
        action="store_true",
        help="answer requests that break the contract 400 here; never forward them",
    )
    proxy.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds to wait for the upstream (default 60)",
    )
    proxy.add_argument("--log-level", default="warning", help="uvicorn log level")


def run_proxy(args: argparse.Namespace) -> int:
    from mock_gateway.proxy.serve import serve_proxy
    from mock_gateway.proxy.settings import ProxySettings
    from seedream_contracts.options import OptionError, parse_usd  # late: `serve` needs neither

    try:
        settings = ProxySettings(
            upstream=args.upstream,
            max_spend_usd=parse_usd(args.max_spend) if args.max_spend is not None else None,
            record_dir=args.record,
            reject_invalid=args.reject_invalid,
            timeout_seconds=args.timeout,
        )
    except (ProxySettingsError, OptionError) as exc:
        print(f"mock-gateway proxy: {exc}")
        return 2
    return serve_proxy(settings, args.host, args.port, args.log_level)
