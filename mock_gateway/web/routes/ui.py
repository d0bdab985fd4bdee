"""The inspector page at ``/_mock/ui`` (``/_mock/`` leads there): part of the control API,
so ``--no-control`` removes it.

The page's files carry no data, so they are served without the control token; the page asks
for the token once and sends it on every control call it makes. A strict Content Security
Policy backs up the script's own care: nothing a client sent can run as script here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mock_gateway.inspector import MEDIA_TYPES, asset
from mock_gateway.web.responses import not_found_route
from mock_gateway.web.routes.control_input import problem

PAGE = "index.html"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _file(name: str) -> Response:
    data = asset(name)
    if data is None:
        return problem(404, "no such file of the inspector page")
    return Response(data, headers={"Content-Type": MEDIA_TYPES[name], **SECURITY_HEADERS})


async def page(request: Request) -> Response:
    return _file(PAGE)


async def page_asset(request: Request) -> Response:
    name: str = request.path_params["name"]
    return _file(name) if name != PAGE else problem(404, "the page itself is /_mock/ui")


def _to_page(request: Request) -> Response:
    return RedirectResponse(f"{request.scope.get('root_path', '')}/_mock/ui", status_code=307)


async def control_root(request: Request) -> Response:
    """``/_mock/`` (the banner's control URL) leads to the page."""
    return _to_page(request)


async def gateway_root(request: Request) -> Response:
    """``/`` answers clients as APIM does (404), but a browser (one that asks for HTML)
    opening the banner's first URL is led to the page."""
    if "text/html" in request.headers.get("accept", ""):
        return _to_page(request)
    return not_found_route()


def ui_routes() -> list[Route]:
    return [
        Route("/", gateway_root, methods=["GET"]),
        Route("/_mock/", control_root, methods=["GET"]),
        Route("/_mock/ui", page, methods=["GET"]),
        Route("/_mock/ui/{name}", page_asset, methods=["GET"]),
    ]
