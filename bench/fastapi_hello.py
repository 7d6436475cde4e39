"""The REST baseline: FastAPI's hello-world on uvicorn with uvloop + httptools, one worker, the
same uvicorn settings as ``casekeeper serve``'s HTTP server (no access log, no lifespan).

FastAPI is not a casekeeper dependency; install it into the venv for the benchmark only:
``.venv/bin/pip install fastapi==0.165.0``.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def root() -> dict[str, str]:
    return {"Hello": "World"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    uvicorn.run(
        app, host="127.0.0.1", port=a.port, loop="uvloop", http="httptools", workers=1,
        lifespan="off", access_log=False, log_config=None, server_header=False,
    )  # fmt: skip


if __name__ == "__main__":
    main()
