"""com.coralogixapis.cases.v1.CaseSettingsService: each RPC runs its operation, which builds
the response message (the REST routes render the same messages as JSON)."""

from __future__ import annotations

from casekeeper.api.coralogix.case_settings import ops
from casekeeper.api.coralogix.grpc.rpc import Call, Servicer, rpc
from casekeeper.api.coralogix.permissions import SETTINGS
from casekeeper.proto.com.coralogixapis.cases.v1 import case_settings_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_settings_service_pb2_grpc as pb_grpc

settings = rpc(SETTINGS)


class CaseSettingsServicer(Servicer, pb_grpc.CaseSettingsServiceServicer):
    @settings
    def CreateCaseSettings(
        self, req: pb.CreateCaseSettingsRequest, call: Call
    ) -> pb.CreateCaseSettingsResponse:
        return ops.create_case_settings(self.c, call.principal, req)

    @settings
    def GetCaseSettings(
        self, req: pb.GetCaseSettingsRequest, call: Call
    ) -> pb.GetCaseSettingsResponse:
        return ops.get_case_settings(self.c, call.principal, req)

    @settings
    def UpdateCaseSettings(
        self, req: pb.UpdateCaseSettingsRequest, call: Call
    ) -> pb.UpdateCaseSettingsResponse:
        return ops.update_case_settings(self.c, call.principal, req)

    @settings
    def DeleteCaseSettings(
        self, req: pb.DeleteCaseSettingsRequest, call: Call
    ) -> pb.DeleteCaseSettingsResponse:
        return ops.delete_case_settings(self.c, call.principal, req)

    @settings
    def GetActiveCaseSettings(
        self, req: pb.GetActiveCaseSettingsRequest, call: Call
    ) -> pb.GetActiveCaseSettingsResponse:
        return ops.get_active_case_settings(self.c, call.principal, req)

    @settings
    def GetSystemDefaultCaseSettings(
        self, req: pb.GetSystemDefaultCaseSettingsRequest, call: Call
    ) -> pb.GetSystemDefaultCaseSettingsResponse:
        return ops.get_system_default_case_settings(self.c, call.principal, req)
