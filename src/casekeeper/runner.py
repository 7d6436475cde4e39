"""Run the gRPC server and the HTTP server in one process until SIGINT/SIGTERM."""

from __future__ import annotations

import gc
import logging
import signal

import uvicorn

from casekeeper.api.grpc.server import GrpcServer
from casekeeper.api.http.app import create_app
from casekeeper.api.http.protocol import guarded_protocol
from casekeeper.bootstrap import Container

log = logging.getLogger("casekeeper")


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def http_server(container: Container, address: str) -> uvicorn.Server:
    host, port = split_address(address)
    settings = container.settings
    tls = settings.tls_files()
    config = uvicorn.Config(
        create_app(container),
        host=host,
        port=port,
        loop="uvloop",
        http=guarded_protocol(settings),
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
        lifespan="off",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    return uvicorn.Server(config)


def freeze_startup_heap() -> None:
    """Put everything built at startup (modules, SQLAlchemy's and protobuf's structures, the
    container) out of the garbage collector's reach, so a full collection does not walk it
    again inside some request (PERFORMANCE.md, "Design notes", the process). Objects made later
    are collected as usual."""
    gc.collect()
    gc.freeze()


def serve(container: Container, *, grpc_address: str, http_address: str) -> None:
    """Serve both APIs; uvicorn owns the signals, and gRPC stops after HTTP has drained."""
    grpc_server = GrpcServer(container, grpc_address)
    http = http_server(container, http_address)
    freeze_startup_heap()
    # uvicorn re-raises the signal it caught once it has drained; with these handlers in place
    # that re-raise lands here instead of killing the process before gRPC has stopped.
    received: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    grpc_server.start()
    log.info("HTTP listening on %s", http_address)
    try:
        http.run()
    finally:
        grpc_server.stop()
    log.info("stopped (signal %s)", received[0] if received else "none")
