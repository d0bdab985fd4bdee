"""``mock-gateway serve``: run the mock under uvicorn (also ``python -m mock_gateway``);
``mock-gateway proxy``: the validating proxy (``mock_gateway/proxy/``)."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_gateway import __version__
from mock_gateway.persistence.command import (
    add_state_options,
    add_state_parser,
    run_state,
    store_options,
)
from mock_gateway.persistence.options import StateFileError, StoreOptions
from mock_gateway.proxy.command import add_proxy_parser, run_proxy

# The mock's own modules (settings, core, web ...) are imported by the functions below, so
# that ``main`` has switched the cyclic GC off before they load (see ``main``).
if TYPE_CHECKING:
    from mock_gateway.config.settings import Settings
    from mock_gateway.web.server import ConnectionLimits

BANNER = """\
Seedream gateway mock listening on {base}
  timing: {timing}   workers: {workers}   config: {source}
  submit:  POST {base}/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request
  status:  GET  {base}/v2/requests/status/<request_id>
  contract: {base}/openapi.json
  control: {control}
  inspector: {inspector}
Test keys (header Ocp-Apim-Subscription-Key):
{keys}
"""


SERVE_EXAMPLES = """examples:
  mock-gateway serve                          # http://127.0.0.1:8000, jobs done in ~1 s
  mock-gateway serve --port 0 --timing manual # any free port (printed); a frozen clock
  mock-gateway serve --scenario flaky --seed 1
  mock-gateway serve --state mock.db          # jobs, keys, clock ... survive a restart"""


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-gateway",
        description="A faithful offline mock of Pixazo's Seedream gateway on 127.0.0.1\n"
        "(also: python -m mock_gateway).",
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mock-gateway {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="start the mock gateway",
        description="Start the mock gateway; it prints its URL and the test keys.",
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=port_number, default=8000, help="port (default 8000; 0 = any free)"
    )
    serve.add_argument(
        "--timing",
        choices=["fast", "realistic", "manual"],
        default=None,
        help="job timing profile (default fast: a job completes in about a second)",
    )
    serve.add_argument("--config", metavar="FILE", help="a TOML config file")
    serve.add_argument("--any-key", action="store_true", default=None, help="accept any key")
    serve.add_argument("--workers", type=int, default=None, help="parallel model workers")
    serve.add_argument("--seed", type=int, default=None, help="make ids and randomness repeatable")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level")
    add_extension_options(serve)
    add_connection_options(serve)
    add_state_options(serve)
    add_proxy_parser(commands, port_number)
    add_state_parser(commands)
    return parser


def add_extension_options(serve: argparse.ArgumentParser) -> None:
    """The mock's own extensions: scenarios, the control API, webhook delivery."""
    from mock_gateway.config.settings import Settings
    from mock_gateway.steering.webhook_policy import WebhookSettings

    serve.add_argument(
        "--scenario",
        metavar="NAME|PATH",
        help="a scenario (fixtures/scenarios/NAME.toml or a file)",
    )
    serve.add_argument("--no-control", action="store_true", help="disable the /_mock/ control API")
    serve.add_argument(
        "--control-token",
        metavar="TOKEN",
        default=os.environ.get("MOCK_GATEWAY_CONTROL_TOKEN"),
        help="require this token on /_mock/ calls (default: $MOCK_GATEWAY_CONTROL_TOKEN); "
        "visible in ps, so prefer the variable or --control-token-file",
    )
    serve.add_argument(
        "--control-token-file",
        metavar="FILE",
        help="read the control token from FILE (its first line)",
    )
    serve.add_argument(
        "--webhook-allow-host",
        metavar="HOST",
        action="append",
        default=[],
        help="also deliver webhooks to HOST (a name, an IP or a network; repeatable)",
    )
    serve.add_argument(
        "--webhook-secret", metavar="whsec_...", help="sign webhooks (Standard Webhooks)"
    )
    serve.add_argument(
        "--webhook-attempts",
        type=int,
        default=None,
        help=f"delivery attempts (default {WebhookSettings().max_attempts})",
    )
    serve.add_argument(
        "--journal-size",
        type=int,
        default=None,
        help=f"entries kept in each log (default {Settings().journal_size})",
    )


def add_connection_options(serve: argparse.ArgumentParser) -> None:
    """Bounds on client connections (defaults: mock_gateway.web.server.ConnectionLimits)."""
    serve.add_argument(
        "--idle-timeout",
        type=positive_number,
        metavar="SECONDS",
        help="close a connection silent this long, before or between requests (default 5)",
    )
    serve.add_argument(
        "--header-timeout",
        type=positive_number,
        metavar="SECONDS",
        help="close a connection whose request head takes longer to arrive (default 10)",
    )
    serve.add_argument(
        "--max-connections",
        type=positive_integer,
        metavar="N",
        help="connections open at once; more get 503 (default 1000)",
    )
    serve.add_argument(
        "--no-fast-path",
        dest="fast_path",
        action="store_false",
        default=None,
        help="serve the hot gateway routes through ASGI too (see the README's server section)",
    )


def positive_number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return number


def positive_integer(text: str) -> int:
    number = positive_number(text)
    if number != int(number):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(number)


def connection_limits(args: argparse.Namespace) -> ConnectionLimits:
    """The defaults, with the connection flags that were given."""
    from mock_gateway.web.server import ConnectionLimits

    limits = ConnectionLimits()
    for name in ("idle_timeout", "header_timeout", "max_connections", "fast_path"):
        if getattr(args, name) is not None:
            limits = replace(limits, **{name: getattr(args, name)})
    return limits


def settings_from_args(args: argparse.Namespace) -> Settings:
    from mock_gateway.config.settings import Settings

    webhooks: dict[str, Any] = {}
    if args.webhook_secret is not None:
        webhooks["signing_secret"] = args.webhook_secret
    if args.webhook_attempts is not None:
        webhooks["max_attempts"] = args.webhook_attempts
    control: dict[str, Any] = {}
    if args.no_control:
        control["enabled"] = False
    if args.control_token_file:
        control["token"] = read_token_file(args.control_token_file)
    elif args.control_token:
        control["token"] = args.control_token
    if args.journal_size is not None:
        control["journal_size"] = args.journal_size
    overrides: dict[str, Any] = {
        "timing": args.timing,
        "any_key": args.any_key,
        "workers": args.workers,
        "seed": args.seed,
        "webhooks": webhooks or None,
        "control": control or None,
    }
    settings = Settings.load(args.config, scenario=args.scenario, **overrides)
    if args.webhook_allow_host:  # added to the hosts a scenario or config file allows
        hosts = (*settings.webhooks.allow_hosts, *args.webhook_allow_host)
        settings = replace(settings, webhooks=replace(settings.webhooks, allow_hosts=hosts))
    return settings


def read_token_file(path: str) -> str:
    """The first line of ``path``, without surrounding whitespace; it must not be empty."""
    from mock_gateway.config.settings import ConfigError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--control-token-file {path}: cannot be read: {exc}") from None
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"--control-token-file {path}: the file is empty")
    return token


def describe_control(settings: Settings, base: str) -> str:
    if not settings.control_enabled:
        return "disabled (--no-control)"
    token = " (token required)" if settings.control_token else ""
    return f"{base}/_mock/ (docs: {base}/_mock/openapi.json){token}"


def describe_inspector(settings: Settings, base: str) -> str:
    """The inspector page's URL (it lives in the control API, so goes with it)."""
    if not settings.control_enabled:
        return "disabled (--no-control)"
    asks = ", it asks for the token once" if settings.control_token else ""
    return f"{base}/_mock/ui (open it in a browser{asks})"


def describe_keys(settings: Settings) -> str:
    lines = [f"  {key.key:<15} {key.note or f'${key.balance_usd}'}" for key in settings.core.keys]
    if settings.core.any_key:
        lines.append(f"  (any other key is accepted with ${settings.core.any_key_balance_usd})")
    return "\n".join(lines) or "  (none configured)"


class StartupError(RuntimeError):
    """The mock cannot start; the message says why in one line."""


def serve(
    settings: Settings,
    host: str,
    port: int,
    log_level: str,
    limits: ConnectionLimits | None = None,
    state_file: str | None = None,
    state_options: StoreOptions | None = None,
) -> None:
    import signal

    from mock_gateway.web import log_redaction
    from mock_gateway.web.app import create_app
    from mock_gateway.web.server import (
        FD_RESERVE,
        ConnectionLimits,
        GuardedServer,
        listening_socket,
        raise_fd_limit,
    )

    bounds = limits or ConnectionLimits()

    store = None
    try:
        if state_file is not None:
            from mock_gateway.persistence.store import StateStore

            store = StateStore.open(state_file, state_options)
        app = create_app(settings, store=store, owns_process=True)
    except StateFileError as exc:  # one line naming the file: never a traceback
        if store is not None:
            store.close()
        raise StartupError(str(exc)) from None
    except (OSError, ValueError) as exc:  # e.g. missing or broken bundled fixtures
        if store is not None:
            store.close()
        raise StartupError(f"cannot start: {exc}") from exc
    # Bind first so the banner can show the real port (also when --port 0).
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc}") from exc
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    print(
        BANNER.format(
            base=f"http://{shown_host}:{bound_port}",
            timing=settings.core.timing.name,
            workers=settings.core.workers,
            source=settings.source,
            control=describe_control(settings, f"http://{shown_host}:{bound_port}"),
            inspector=describe_inspector(settings, f"http://{shown_host}:{bound_port}"),
            keys=describe_keys(settings),
        )
        + describe_state(state_file, state_options),
        flush=True,
    )
    server = GuardedServer(
        app,
        bounds,
        log_level=log_level,
        soft_fd_limit=raise_fd_limit(bounds.max_connections + FD_RESERVE),
        timeout_graceful_shutdown=5,
    )
    log_redaction.install()  # after uvicorn configured its loggers
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal it caught; with
    # this handler in place that re-raise ends the process with status 0 (a clean stop)
    # instead of death by signal.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    server.run(sockets=[sock])


def describe_state(state_file: str | None, options: StoreOptions | None) -> str:
    if state_file is None:
        return ""
    sync = (options or StoreOptions()).synchronous
    return f"State: {state_file} (every change is saved; --state-sync {sync})\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``mock-gateway``. Start-up runs without the cyclic GC: the imports and the app make
    tens of thousands of objects that live as long as the process and hardly any garbage
    cycles, and each collection walked all of them again (a few percent of start-up).
    ``serve`` turns it back on once they are frozen (``web/app.py``), anything else at once."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(argv, resume_gc=collecting)
    finally:
        if collecting:
            gc.enable()


def _run(argv: Sequence[str] | None, *, resume_gc: bool) -> int:
    from mock_gateway.config.settings import ConfigError

    args = build_parser().parse_args(argv)
    if resume_gc and args.command != "serve":
        gc.enable()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "proxy":
        return run_proxy(args)
    if args.command == "state":
        return run_state(args)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        print(f"mock-gateway: {exc}", file=sys.stderr)
        return 2
    try:
        serve(
            settings,
            args.host,
            args.port,
            args.log_level,
            connection_limits(args),
            args.state,
            store_options(args),
        )
    except StartupError as exc:
        print(f"mock-gateway: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
