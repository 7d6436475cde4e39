"""com.coralogixapis.incidents.v1.IncidentsService: each RPC runs its operation, which builds
the response message (the REST routes render the same messages as JSON)."""

from __future__ import annotations

from casekeeper.api.coralogix.grpc.rpc import Call, Servicer, rpc
from casekeeper.api.coralogix.incidents import ops
from casekeeper.api.coralogix.permissions import INCIDENTS
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2_grpc as pb_grpc

incidents = rpc(INCIDENTS)


class IncidentsServicer(Servicer, pb_grpc.IncidentsServiceServicer):
    @incidents
    def GetIncident(self, req: pb.GetIncidentRequest, call: Call) -> pb.GetIncidentResponse:
        return ops.get_incident(self.c, call.principal, req)

    @incidents
    def BatchGetIncident(
        self, req: pb.BatchGetIncidentRequest, call: Call
    ) -> pb.BatchGetIncidentResponse:
        return ops.batch_get_incident(self.c, call.principal, req)

    @incidents
    def ListIncidents(self, req: pb.ListIncidentsRequest, call: Call) -> pb.ListIncidentsResponse:
        return ops.list_incidents(self.c, call.principal, req)

    @incidents
    def ListIncidentAggregations(
        self, req: pb.ListIncidentAggregationsRequest, call: Call
    ) -> pb.ListIncidentAggregationsResponse:
        return ops.list_incident_aggregations(self.c, call.principal, req)

    @incidents
    def GetFilterValues(
        self, req: pb.GetFilterValuesRequest, call: Call
    ) -> pb.GetFilterValuesResponse:
        return ops.get_filter_values(self.c, call.principal, req)

    @incidents
    def AssignIncidents(
        self, req: pb.AssignIncidentsRequest, call: Call
    ) -> pb.AssignIncidentsResponse:
        return ops.assign_incidents(self.c, call.principal, req)

    @incidents
    def UnassignIncidents(
        self, req: pb.UnassignIncidentsRequest, call: Call
    ) -> pb.UnassignIncidentsResponse:
        return ops.unassign_incidents(self.c, call.principal, req)

    @incidents
    def AcknowledgeIncidents(
        self, req: pb.AcknowledgeIncidentsRequest, call: Call
    ) -> pb.AcknowledgeIncidentsResponse:
        return ops.acknowledge_incidents(self.c, call.principal, req)

    @incidents
    def CloseIncidents(
        self, req: pb.CloseIncidentsRequest, call: Call
    ) -> pb.CloseIncidentsResponse:
        return ops.close_incidents(self.c, call.principal, req)

    @incidents
    def ResolveIncidents(
        self, req: pb.ResolveIncidentsRequest, call: Call
    ) -> pb.ResolveIncidentsResponse:
        return ops.resolve_incidents(self.c, call.principal, req)

    @incidents
    def GetIncidentEvents(
        self, req: pb.GetIncidentEventsRequest, call: Call
    ) -> pb.GetIncidentEventsResponse:
        return ops.get_incident_events(self.c, call.principal, req)

    @incidents
    def GetIncidentByEventId(
        self, req: pb.GetIncidentByEventIdRequest, call: Call
    ) -> pb.GetIncidentByEventIdResponse:
        return ops.get_incident_by_event_id(self.c, call.principal, req)

    @incidents
    def AcknowledgeIncidentByEventId(
        self, req: pb.AcknowledgeIncidentByEventIdRequest, call: Call
    ) -> pb.AcknowledgeIncidentByEventIdResponse:
        return ops.acknowledge_incident_by_event_id(self.c, call.principal, req)

    @incidents
    def ResolveIncidentByEventId(
        self, req: pb.ResolveIncidentByEventIdRequest, call: Call
    ) -> pb.ResolveIncidentByEventIdResponse:
        return ops.resolve_incident_by_event_id(self.c, call.principal, req)

    @incidents
    def ListIncidentEvents(
        self, req: pb.ListIncidentEventsRequest, call: Call
    ) -> pb.ListIncidentEventsResponse:
        return ops.list_incident_events(self.c, call.principal, req)

    @incidents
    def ListIncidentEventsTotalCount(
        self, req: pb.ListIncidentEventsTotalCountRequest, call: Call
    ) -> pb.ListIncidentEventsTotalCountResponse:
        return ops.list_incident_events_total_count(self.c, call.principal, req)

    @incidents
    def ListIncidentEventsFilterValues(
        self, req: pb.ListIncidentEventsFilterValuesRequest, call: Call
    ) -> pb.ListIncidentEventsFilterValuesResponse:
        return ops.list_incident_events_filter_values(self.c, call.principal, req)

    @incidents
    def GetIncidentUsingCorrelationKey(
        self, req: pb.GetIncidentUsingCorrelationKeyRequest, call: Call
    ) -> pb.GetIncidentUsingCorrelationKeyResponse:
        return ops.get_incident_using_correlation_key(self.c, call.principal, req)
