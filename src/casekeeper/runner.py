"""Run the gRPC server and the HTTP server in one process until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from casekeeper.api.events.hub import close_all as close_streams
from casekeeper.api.grpc.server import GrpcServer
from casekeeper.api.http.app import create_app
from casekeeper.api.http.protocol import GuardedProtocol, guarded_protocol, tls_protocol
from casekeeper.bootstrap import Container
from casekeeper.settings import split_address

log = logging.getLogger("casekeeper")


class HttpServer(uvicorn.Server):
    """uvicorn's server with TLS layered by ``tls_protocol`` instead of ``create_server``'s
    ``ssl=``, under which a TLS handshake is neither counted by the connection cap nor timed
    by the header timeout (protocol.py). ``reuse_port`` shares the port with the other
    processes of ``serve --processes N`` (SO_REUSEPORT: the kernel spreads connections)."""

    reuse_port = False
    on_started: Callable[[], None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets is not None:
            raise ValueError("HttpServer binds its own address; it takes no sockets")
        await self.lifespan.startup()
        config = self.config
        protocol_class = config.http_protocol_class
        if not (isinstance(protocol_class, type) and issubclass(protocol_class, GuardedProtocol)):
            raise TypeError(f"HttpServer needs a GuardedProtocol, not {protocol_class!r}")

        def create_protocol() -> GuardedProtocol:
            return protocol_class(
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        factory: Callable[[], asyncio.BaseProtocol] = create_protocol
        if config.ssl is not None:
            factory = tls_protocol(create_protocol, config.ssl, protocol_class.header_timeout)
        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_server(
                factory,
                host=config.host,
                port=config.port,
                backlog=config.backlog,
                reuse_port=self.reuse_port or None,
            )
        except OSError as exc:
            log.error("cannot listen for HTTP on %s:%s: %s", config.host, config.port, exc)
            sys.exit(STARTUP_FAILURE)
        self.servers = [server]
        self._log_started_message(server.sockets)  # says https:// when config.ssl is set
        self.started = True
        if self.on_started is not None:
            self.on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        close_streams()  # open change-feed streams end now, not at the graceful timeout
        await super().shutdown(sockets)


def http_server(container: Container, address: str, *, reuse_port: bool = False) -> HttpServer:
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
    server = HttpServer(config)
    server.reuse_port = reuse_port
    return server


def freeze_startup_heap() -> None:
    """Put everything built at startup (modules, SQLAlchemy's and protobuf's structures, the
    container) out of the garbage collector's reach, so a full collection does not walk it
    again inside some request (PERFORMANCE.md, "Design notes", the process). Objects made later
    are collected as usual."""
    gc.collect()
    gc.freeze()


def serve(
    container: Container,
    *,
    grpc_address: str,
    http_address: str,
    reuse_port: bool = False,
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve both APIs; uvicorn owns the signals, and gRPC stops after HTTP has drained.
    ``ready`` is called once both listen (the supervisor's readiness signal)."""
    grpc_server = GrpcServer(container, grpc_address, reuse_port=reuse_port)
    http = http_server(container, http_address, reuse_port=reuse_port)
    http.on_started = ready
    freeze_startup_heap()
    # uvicorn re-raises the signal it caught once it has drained; with these handlers in place
    # that re-raise lands here instead of killing the process before gRPC has stopped.
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        http.should_exit = True  # caught before uvicorn's own handlers: stop once it starts

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    grpc_server.start()
    scheduler = None
    if container.settings.scheduler:
        from casekeeper.service.scheduler import Scheduler, timers_for

        scheduler = Scheduler(timers_for(container), container.settings.scheduler_interval)
        scheduler.start()
    notifier = None
    if container.settings.notify_worker:
        from casekeeper.service.notify_delivery import DeliveryThread

        notifier = DeliveryThread(container.delivery_worker())
        notifier.start()
    log.info("HTTP listening on %s", http_address)
    try:
        http.run()
    finally:
        if scheduler is not None:
            scheduler.stop()
        if notifier is not None:
            notifier.stop()
        grpc_server.stop()
    log.info("stopped (signal %s)", received[0] if received else "none")
