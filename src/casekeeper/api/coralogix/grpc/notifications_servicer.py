"""com.coralogixapis.cases.v1.CasesNotificationService: the delivery ledger over gRPC."""

from __future__ import annotations

from casekeeper.api.coralogix.grpc.rpc import Call, Servicer, rpc
from casekeeper.api.coralogix.notifications import ops
from casekeeper.api.coralogix.permissions import NOTIFICATIONS
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_notification_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import (
    cases_notification_service_pb2_grpc as pb_grpc,
)

notifications = rpc(NOTIFICATIONS)


class CasesNotificationServicer(Servicer, pb_grpc.CasesNotificationServiceServicer):
    @notifications
    def ListNotificationDeliveries(
        self, req: pb.ListNotificationDeliveriesRequest, call: Call
    ) -> pb.ListNotificationDeliveriesResponse:
        return ops.list_notification_deliveries(self.c, call.principal, req)
