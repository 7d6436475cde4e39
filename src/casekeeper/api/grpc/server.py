"""The gRPC server: grpc.aio on an event loop of its own thread, with services, reflection,
health, explicit options and a graceful stop.

Why aio: with grpcio's thread-pool server every call crosses threads and GIL hand-offs cost more
than a point read (docs/PERFORMANCE.md). Here calls arrive on one event loop; point reads on
SQLite answer there, the rest go to a worker pool (see ``rpc.py``). The class keeps a blocking
``start``/``stop`` interface, so the runner and tests drive it like any server object.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from casekeeper.api.coralogix.grpc.admin_servicer import ApiKeysServicer, CaseAdminServicer
from casekeeper.api.coralogix.grpc.case_settings_servicer import CaseSettingsServicer
from casekeeper.api.coralogix.grpc.cases_servicer import CasesServicer
from casekeeper.api.coralogix.grpc.events_servicer import CaseEventsServicer
from casekeeper.api.coralogix.grpc.incidents_servicer import IncidentsServicer
from casekeeper.api.coralogix.grpc.notifications_servicer import CasesNotificationServicer
from casekeeper.api.grpc.handlers import add_services
from casekeeper.api.ingest.grpc_servicer import SERVICE as INGEST_SERVICE
from casekeeper.api.ingest.grpc_servicer import IngestServicer
from casekeeper.api.notify.grpc_servicer import SERVICE as NOTIFY_SERVICE
from casekeeper.api.notify.grpc_servicer import NotificationServicer
from casekeeper.bootstrap import Container
from casekeeper.proto.casekeeper.v1 import api_keys_pb2, case_admin_pb2
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_events_service_pb2,
    case_settings_service_pb2,
    cases_notification_service_pb2,
    cases_service_pb2,
)
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2

log = logging.getLogger("casekeeper.grpc")

MAX_MESSAGE = 8 * 1024 * 1024

SERVICE_NAMES = (
    cases_service_pb2.DESCRIPTOR.services_by_name["CasesService"].full_name,
    case_events_service_pb2.DESCRIPTOR.services_by_name["CaseEventsService"].full_name,
    case_admin_pb2.DESCRIPTOR.services_by_name["CaseAdminService"].full_name,
    api_keys_pb2.DESCRIPTOR.services_by_name["ApiKeysService"].full_name,
    incidents_service_pb2.DESCRIPTOR.services_by_name["IncidentsService"].full_name,
    case_settings_service_pb2.DESCRIPTOR.services_by_name["CaseSettingsService"].full_name,
    INGEST_SERVICE,
    NOTIFY_SERVICE,
    cases_notification_service_pb2.DESCRIPTOR.services_by_name[
        "CasesNotificationService"
    ].full_name,
)

# Channel options, shared with the benchmark's empty baseline server (bench/empty_server.py).
OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.so_reuseport", 0),
)
MAX_CONCURRENT_RPCS = 1024

T = TypeVar("T")


class GrpcServer:
    def __init__(self, container: Container, address: str, *, reuse_port: bool = False) -> None:
        # Off by default so a second server on a taken port fails instead of sharing it; on
        # for the processes of `serve --processes N`, which share their ports on purpose.
        self._options = [o for o in OPTIONS if o[0] != "grpc.so_reuseport"]
        self._options.append(("grpc.so_reuseport", int(reuse_port)))
        self.executor = ThreadPoolExecutor(
            max_workers=container.settings.grpc_workers, thread_name_prefix="grpc"
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="grpc-loop", daemon=True)
        self._thread.start()
        self.health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        try:
            self.server = self._call(self._build(container, address))
        except BaseException:
            self._close_loop()
            raise
        self.address = address.rsplit(":", 1)[0] + f":{self.port}"

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _build(self, container: Container, address: str) -> grpc.aio.Server:
        server = grpc.aio.server(options=self._options, maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS)
        pool = self.executor
        servicers = (
            CasesServicer(container, pool),
            CaseEventsServicer(container, pool),
            CaseAdminServicer(container, pool),
            ApiKeysServicer(container, pool),
            IncidentsServicer(container, pool),
            CaseSettingsServicer(container, pool),
            IngestServicer(container, pool),
            NotificationServicer(container, pool),
            CasesNotificationServicer(container, pool),
        )
        add_services(server, zip(SERVICE_NAMES, servicers, strict=True))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
        )
        tls = container.settings.tls_files()
        if tls is None:
            self.port = server.add_insecure_port(address)
        else:
            cert, key = (Path(name).read_bytes() for name in tls)
            self.port = server.add_secure_port(address, grpc.ssl_server_credentials([(key, cert)]))
        if self.port == 0:
            raise OSError(f"cannot listen for gRPC on {address}")
        return server

    def start(self) -> None:
        async def start() -> None:
            await self.server.start()
            for name in ("", *SERVICE_NAMES):
                await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

        self._call(start())
        log.info("gRPC listening on %s", self.address)

    def stop(self, grace: float = 5.0) -> None:
        """Refuse new calls, let calls in flight finish for up to ``grace`` seconds, stop."""

        async def stop() -> None:
            await self.health.enter_graceful_shutdown()
            await self.server.stop(grace)

        try:
            self._call(stop(), timeout=grace + 30)
        finally:
            self._close_loop()
            self.executor.shutdown(wait=False)

    def _close_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()
