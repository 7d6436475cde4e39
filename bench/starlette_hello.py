"""The Tracecat benchmark's baseline: a Starlette hello-world on the same server settings as
``casekeeper serve``'s HTTP server (uvicorn, uvloop, casekeeper's guarded httptools protocol,
one worker, no access log, no lifespan), answering ``{"Hello": "World"}`` as JSON.

    python bench/starlette_hello.py --port 8099
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from casekeeper.api.http.protocol import guarded_protocol
from casekeeper.settings import Settings


async def hello(_: Request) -> JSONResponse:
    return JSONResponse({"Hello": "World"})


app = Starlette(routes=[Route("/{rest:path}", hello)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    settings = Settings(database_url="sqlite://")
    uvicorn.run(
        app, host="127.0.0.1", port=a.port, loop="uvloop", http=guarded_protocol(settings),
        workers=1, lifespan="off", access_log=False, log_config=None, server_header=False,
    )  # fmt: skip


if __name__ == "__main__":
    main()
