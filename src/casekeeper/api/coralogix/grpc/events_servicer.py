"""com.coralogixapis.cases.v1.CaseEventsService: the timeline."""

from __future__ import annotations

from concurrent.futures import Executor

from casekeeper.api.coralogix import cases as ops
from casekeeper.api.coralogix.convert import event_to_pb
from casekeeper.api.coralogix.grpc.rpc import Call, Servicer, rpc
from casekeeper.api.coralogix.permissions import EVENTS
from casekeeper.bootstrap import Container
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2_grpc as pb_grpc

events = rpc(EVENTS)


class CaseEventsServicer(Servicer, pb_grpc.CaseEventsServiceServicer):
    def __init__(self, container: Container, executor: Executor) -> None:
        super().__init__(container, executor)

    @events
    def ListEvents(self, req: pb.ListEventsRequest, call: Call) -> pb.ListEventsResponse:
        out = pb.ListEventsResponse()
        for event in ops.list_events(self.c, call.principal, req):
            event_to_pb(event, out.events.add())
        return out

    @events
    def GetEvent(self, req: pb.GetEventRequest, call: Call) -> pb.GetEventResponse:
        out = pb.GetEventResponse()
        event_to_pb(ops.get_event(self.c, call.principal, req), out.event)
        return out

    @events
    def CreateComment(self, req: pb.CreateCommentRequest, call: Call) -> pb.CreateCommentResponse:
        out = pb.CreateCommentResponse()
        event_to_pb(ops.create_comment(self.c, call.principal, req), out.event)
        return out

    @events
    def UpdateComment(self, req: pb.UpdateCommentRequest, call: Call) -> pb.UpdateCommentResponse:
        out = pb.UpdateCommentResponse()
        event_to_pb(ops.update_comment(self.c, call.principal, req), out.event)
        return out

    @events
    def DeleteComment(self, req: pb.DeleteCommentRequest, call: Call) -> pb.DeleteCommentResponse:
        ops.delete_comment(self.c, call.principal, req)
        return pb.DeleteCommentResponse()

    @events
    def SyncExternalCaseEvents(
        self, req: pb.SyncExternalCaseEventsRequest, call: Call
    ) -> pb.SyncExternalCaseEventsResponse:
        registered = ops.sync_external_case_events(self.c, call.principal, req)
        return pb.SyncExternalCaseEventsResponse(sync_registered=registered)
