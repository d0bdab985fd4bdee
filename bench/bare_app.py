"""A bare Starlette hello-world, served like the mock, as the benchmark's yardstick."""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    if request.method == "POST":
        await request.body()
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/{path:path}", hello, methods=["GET", "POST"])])

if __name__ == "__main__":
    port = int(sys.argv[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uvicorn.Server(config).run()
