"""The baseline server: grpc.aio with casekeeper's server options, serving
``CasesService.GetCase`` from an empty ``async`` handler that returns a small fixed message —
the way ``casekeeper serve`` answers GetCase (on the event loop), minus the work.

The options and ``maximum_concurrent_rpcs`` come from ``casekeeper.api.grpc.server`` via the
parent (``common.grpc_server_config``) as JSON, so this process imports only grpcio and the
generated messages: its RSS is the floor of a Python gRPC server.

    python bench/empty_server.py --port 50099 --config '{"options": [...], ...}'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import Any

import grpc

from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2_grpc as pb_grpc


def fixed_response() -> pb.GetCaseResponse:
    """About the 6-field message of PERF_FLOOR.md §1: id, title, status, priority, category,
    create time."""
    resp = pb.GetCaseResponse()
    c = resp.case
    c.id = "6f1c2a9e-0000-4000-8000-000000000001"
    c.title = "High error rate on checkout in production"
    c.status = 2  # type: ignore[assignment]
    c.priority = 2  # type: ignore[assignment]
    c.category = 2  # type: ignore[assignment]
    c.create_time.seconds = 1_793_491_200
    return resp


class EmptyCases(pb_grpc.CasesServiceServicer):
    def __init__(self) -> None:
        self.resp = fixed_response()

    async def GetCase(self, _request: Any, _context: Any) -> Any:  # type: ignore[override]
        return self.resp


async def serve(port: int, cfg: dict[str, Any]) -> None:
    server = grpc.aio.server(
        options=[tuple(o) for o in cfg["options"]],
        maximum_concurrent_rpcs=cfg["maximum_concurrent_rpcs"],
    )
    pb_grpc.add_CasesServiceServicer_to_server(EmptyCases(), server)
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise SystemExit(f"cannot listen on 127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--config", required=True, help="JSON from common.grpc_server_config()")
    a = ap.parse_args()
    asyncio.run(serve(a.port, json.loads(a.config)))


if __name__ == "__main__":
    main()
