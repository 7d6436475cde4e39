"""``ListNotificationDeliveries`` as one function of (container, principal, request) returning
the response message: the gRPC servicer sends it, the REST route renders it as JSON.

Ledger → spec: ``no_route`` is ``noRouterMatched``; ``no_connector`` is
``noNotificationCreated`` naming the routes that matched; ``routed`` is ``attempted`` with one
``DeliveryAttempt`` per attempt of each of the route's deliveries, oldest first (the newest 100
when there are more). A delivery not attempted yet contributes none. Mattermost, which the enum
does not know, is ``CONNECTOR_TYPE_GENERIC_HTTPS``: it is a generic incoming webhook.
"""

from __future__ import annotations

from typing import Any, Final

from casekeeper.bootstrap import Container
from casekeeper.domain.notifications import ConnectorKind, NotificationResult
from casekeeper.domain.notify_ledger import NotificationRecord
from casekeeper.proto.com.coralogixapis.cases.v1 import cases_notification_service_pb2 as pb
from casekeeper.proto.com.coralogixapis.cases.v1 import common_pb2
from casekeeper.service.auth import Principal

MAX_ATTEMPTS: Final = 100  # the spec's bound on one RoutedDelivery's attempts
CT = common_pb2.ConnectorType
CONNECTOR_TYPES: Final = {
    ConnectorKind.WEBHOOK: CT.CONNECTOR_TYPE_GENERIC_HTTPS,
    ConnectorKind.MATTERMOST: CT.CONNECTOR_TYPE_GENERIC_HTTPS,
    ConnectorKind.SLACK: CT.CONNECTOR_TYPE_SLACK,
    ConnectorKind.TEAMS: CT.CONNECTOR_TYPE_MICROSOFT_TEAMS,
    ConnectorKind.PAGERDUTY: CT.CONNECTOR_TYPE_PAGER_DUTY,
    ConnectorKind.EMAIL: CT.CONNECTOR_TYPE_EMAIL,
}


def delivery_to_pb(n: NotificationRecord, out: pb.NotificationDelivery) -> None:
    out.timestamp.FromMicroseconds(n.create_time)
    out.request_notification_id = n.id
    if n.result == NotificationResult.NO_ROUTE:
        out.no_router_matched.SetInParent()
        return
    if n.result == NotificationResult.NO_CONNECTOR:
        made = out.no_notification_created
        made.SetInParent()
        for r in n.matched:
            made.matched_routers.add(router_id=r.id, router_name=r.name)
        return
    attempted = out.attempted
    if n.route is not None:
        attempted.router.router_id = n.route.id
        attempted.router.router_name = n.route.name
    tried = sorted(
        ((a.time, a.number, d) for d in n.deliveries for a in d.attempts),
        key=lambda x: (x[0], x[1]),
    )[-MAX_ATTEMPTS:]
    by_number = {(d.id, a.number): a for d in n.deliveries for a in d.attempts}
    for _, number, d in tried:
        a = by_number[(d.id, number)]
        item = attempted.attempts.add()
        item.connector.connector_id = d.connector_id
        item.connector.connector_name = d.connector_name
        item.connector.connector_type = CONNECTOR_TYPES[d.connector_kind]
        if a.ok:
            item.outcome.success.SetInParent()
            if a.evidence_url:
                item.outcome.success.evidence_url = a.evidence_url
        else:
            item.outcome.failure.error_message = a.error or "failed"


def list_notification_deliveries(
    c: Container, p: Principal, r: pb.ListNotificationDeliveriesRequest
) -> pb.ListNotificationDeliveriesResponse:
    found = c.ledger.for_cases(p, list(r.case_ids))
    response = pb.ListNotificationDeliveriesResponse()
    for raw, records in found.items():
        entry = response.deliveries_by_case[raw]
        entry.SetInParent()
        for n in records:
            delivery_to_pb(n, entry.notification_deliveries.add())
    return response


NOTIFICATION_OPERATIONS: dict[str, tuple[type[Any], Any]] = {
    "ListNotificationDeliveries": (
        pb.ListNotificationDeliveriesRequest,
        list_notification_deliveries,
    ),
}
