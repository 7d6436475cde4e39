"""The gRPC server: services, reflection, health, explicit options, graceful stop."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from casekeeper.api.grpc.admin_servicer import ApiKeysServicer, CaseAdminServicer
from casekeeper.api.grpc.cases_servicer import CasesServicer
from casekeeper.api.grpc.events_servicer import CaseEventsServicer
from casekeeper.bootstrap import Container
from casekeeper.proto.casekeeper.v1 import (
    api_keys_pb2,
    api_keys_pb2_grpc,
    case_admin_pb2,
    case_admin_pb2_grpc,
)
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    case_events_service_pb2,
    case_events_service_pb2_grpc,
    cases_service_pb2,
    cases_service_pb2_grpc,
)

log = logging.getLogger("casekeeper.grpc")

MAX_MESSAGE = 8 * 1024 * 1024

SERVICE_NAMES = (
    cases_service_pb2.DESCRIPTOR.services_by_name["CasesService"].full_name,
    case_events_service_pb2.DESCRIPTOR.services_by_name["CaseEventsService"].full_name,
    case_admin_pb2.DESCRIPTOR.services_by_name["CaseAdminService"].full_name,
    api_keys_pb2.DESCRIPTOR.services_by_name["ApiKeysService"].full_name,
)


class GrpcServer:
    def __init__(self, container: Container, address: str) -> None:
        self.executor = ThreadPoolExecutor(
            max_workers=container.settings.grpc_workers, thread_name_prefix="grpc"
        )
        self.server = grpc.server(
            self.executor,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.max_send_message_length", MAX_MESSAGE),
                ("grpc.keepalive_time_ms", 60_000),
                ("grpc.keepalive_timeout_ms", 20_000),
                ("grpc.http2.max_pings_without_data", 0),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.so_reuseport", 0),
            ],
            maximum_concurrent_rpcs=1024,
        )
        cases_service_pb2_grpc.add_CasesServiceServicer_to_server(
            CasesServicer(container), self.server
        )
        case_events_service_pb2_grpc.add_CaseEventsServiceServicer_to_server(
            CaseEventsServicer(container), self.server
        )
        case_admin_pb2_grpc.add_CaseAdminServiceServicer_to_server(
            CaseAdminServicer(container), self.server
        )
        api_keys_pb2_grpc.add_ApiKeysServiceServicer_to_server(
            ApiKeysServicer(container), self.server
        )
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), self.server
        )
        self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen for gRPC on {address}")
        self.address = address.rsplit(":", 1)[0] + f":{self.port}"

    def start(self) -> None:
        self.server.start()
        for name in ("", *SERVICE_NAMES):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC listening on %s", self.address)

    def stop(self, grace: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.executor.shutdown(wait=False)

    def wait(self) -> None:
        self.server.wait_for_termination()
