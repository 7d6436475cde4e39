"""com.coralogixapis.cases.v1.CaseEventsService: the timeline."""

from __future__ import annotations

from casekeeper.api.grpc.convert import actor_from_pb, event_to_pb, micros_of, to_json
from casekeeper.api.grpc.rpc import Call, rpc
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import invalid
from casekeeper.domain.model import Json
from casekeeper.proto.com.coralogixapis.cases.v1 import case_event_pb2 as ev_pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import case_events_service_pb2_grpc as pb_grpc
from casekeeper.service.permissions import EVENTS
from casekeeper.service.timeline import ExternalMessage

events = rpc(EVENTS)


def _attachments(items: list[ev_pb.CommentAttachment]) -> list[Json]:
    out = []
    for i, a in enumerate(items):
        if a.WhichOneof("attachment") is None:
            raise invalid(f"attachments[{i}]: give one of 'log', 'customWidget' or 'file'")
        out.append(to_json(a))
    return out


class CaseEventsServicer(pb_grpc.CaseEventsServiceServicer):
    def __init__(self, container: Container) -> None:
        self.keys = container.keys
        self.svc = container.timeline

    @events
    def ListEvents(self, req: pb.ListEventsRequest, call: Call) -> pb.ListEventsResponse:
        out = pb.ListEventsResponse()
        for event in self.svc.list_events(call.principal, req.case_id):
            event_to_pb(event, out.events.add())
        return out

    @events
    def GetEvent(self, req: pb.GetEventRequest, call: Call) -> pb.GetEventResponse:
        out = pb.GetEventResponse()
        event_to_pb(self.svc.get(call.principal, req.event_id), out.event)
        return out

    @events
    def CreateComment(self, req: pb.CreateCommentRequest, call: Call) -> pb.CreateCommentResponse:
        event = self.svc.create_comment(
            call.principal, req.case_id, req.text, _attachments(list(req.attachments))
        )
        out = pb.CreateCommentResponse()
        event_to_pb(event, out.event)
        return out

    @events
    def UpdateComment(self, req: pb.UpdateCommentRequest, call: Call) -> pb.UpdateCommentResponse:
        event = self.svc.update_comment(
            call.principal, req.event_id, req.text, _attachments(list(req.attachments))
        )
        out = pb.UpdateCommentResponse()
        event_to_pb(event, out.event)
        return out

    @events
    def DeleteComment(self, req: pb.DeleteCommentRequest, call: Call) -> pb.DeleteCommentResponse:
        self.svc.delete_comment(call.principal, req.event_id)
        return pb.DeleteCommentResponse()

    @events
    def SyncExternalCaseEvents(
        self, req: pb.SyncExternalCaseEventsRequest, call: Call
    ) -> pb.SyncExternalCaseEventsResponse:
        messages = []
        for m in req.messages:
            source = m.WhichOneof("source")
            messages.append(
                ExternalMessage(
                    external_id=m.external_id,
                    text=m.text,
                    event_time=micros_of(m.event_time) if m.HasField("event_time") else None,
                    source={_camel(source): to_json(getattr(m, source))} if source else None,
                    actor=actor_from_pb(m.actor) if m.HasField("actor") else None,
                )
            )
        registered = self.svc.sync_external(call.principal, req.case_id, messages)
        return pb.SyncExternalCaseEventsResponse(sync_registered=registered)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)
