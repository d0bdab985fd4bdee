"""Running the proxy under uvicorn, with a banner and a summary when it stops."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys

from mock_gateway.proxy.settings import ProxySettings

BANNER = """\
Seedream gateway proxy listening on {base}
  upstream: {upstream}   max spend: {limit}   invalid requests: {invalid}
  record:   {record}
  report:   GET {base}/_proxy/report
Point your client at {base} instead of the gateway; keys and headers are passed through.
"""


def serve_proxy(settings: ProxySettings, host: str, port: int, log_level: str) -> int:
    from mock_gateway.proxy.app import create_proxy_app
    from mock_gateway.web.server import ConnectionLimits, GuardedServer, listening_socket

    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        print(f"mock-gateway proxy: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 2
    try:
        app = create_proxy_app(settings)
    except OSError as exc:  # e.g. --record into a directory that cannot be written
        sock.close()
        print(f"mock-gateway proxy: cannot start: {exc}", file=sys.stderr)
        return 2
    shown = f"[{host}]" if ":" in host else host
    limit = f"${settings.max_spend_usd}" if settings.max_spend_usd is not None else "no limit"
    print(
        BANNER.format(
            base=f"http://{shown}:{sock.getsockname()[1]}",
            upstream=settings.upstream,
            limit=limit,
            invalid="answered 400 here" if settings.reject_invalid else "reported and forwarded",
            record=settings.record_dir or "off",
        ),
        flush=True,
    )
    # A request line can carry a key (?subscription-key=...): neither uvicorn's access log
    # nor httpx's request log (INFO) may print one.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The mock's server: uvicorn with bounds on idle and slow connections and their number.
    server = GuardedServer(
        app,
        ConnectionLimits(),
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))  # as ``serve``: a clean stop
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    return 0
