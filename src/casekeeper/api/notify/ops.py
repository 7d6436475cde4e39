"""Every NotificationService RPC as one function of (container, principal, request message)
returning the response message, and the conversions they share. The gRPC servicer sends the
message; the REST routes parse JSON into the request message and render the response as JSON.
Secrets go in and never come out (``Connector.secret`` is "stored", "env:VAR" or "none")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from casekeeper.bootstrap import Container
from casekeeper.domain.errors import invalid
from casekeeper.domain.notifications import Connector, Route
from casekeeper.domain.notify_ledger import DeliveryRecord, NotificationRecord
from casekeeper.proto.casekeeper.v1 import notifications_pb2 as pb
from casekeeper.service.auth import Principal
from casekeeper.service.notify_config import ConnectorInput
from casekeeper.service.notify_routes import RouteInput

CLEARABLE: Final = ("events", "categories", "labels", "groupings", "min_priority",
                    "title_template", "text_template")  # fmt: skip


def _opt(m: Any, name: str) -> Any:
    return getattr(m, name) if m.HasField(name) else None


def connector_input(s: pb.ConnectorSpec) -> ConnectorInput:
    return ConnectorInput(
        name=_opt(s, "name"), kind=_opt(s, "type"), url=_opt(s, "url"),
        secret=_opt(s, "secret"), secret_env=_opt(s, "secret_env"),
        clear_secret=s.clear_secret, smtp=_opt(s, "smtp"), sender=_opt(s, "sender"),
        recipients=tuple(s.to) if s.to else None, starttls=_opt(s, "starttls"),
        username=_opt(s, "username"), body_template=_opt(s, "body_template"),
        header_templates=tuple(sorted(s.header_templates.items()))
        if s.header_templates else None,
        enabled=_opt(s, "enabled"),
    )  # fmt: skip


def route_input(s: pb.RouteSpec) -> RouteInput:
    unknown = [c for c in s.clear if c not in CLEARABLE]
    if unknown:
        raise invalid(f"cannot clear {unknown[0]!r}; one of {', '.join(CLEARABLE)}",
                      field="clear")  # fmt: skip
    clear = set(s.clear)

    def many(name: str) -> tuple[str, ...] | None:
        values = tuple(getattr(s, name))
        return () if name in clear else (values or None)

    def text(name: str) -> str | None:
        return "" if name in clear else _opt(s, name)

    return RouteInput(
        name=_opt(s, "name"), connectors=tuple(s.connectors) or None, events=many("events"),
        min_priority=text("min_priority"), categories=many("categories"),
        labels=many("labels"), groupings=many("groupings"),
        title_template=text("title_template"), text_template=text("text_template"),
        stop=_opt(s, "stop"), enabled=_opt(s, "enabled"), position=_opt(s, "position"),
    )  # fmt: skip


def connector_to_pb(c: Connector, out: pb.Connector) -> None:
    out.id, out.name, out.type = c.id, c.name, c.kind.value
    out.secret, out.enabled = c.secret.shown, c.enabled
    if c.url is not None:
        out.url = c.url
    if c.email is not None:
        e = c.email
        out.email.smtp = f"{e.smtp_host}:{e.smtp_port}"
        out.email.sender, out.email.starttls = e.sender, e.starttls
        out.email.to.extend(e.recipients)
        if e.username:
            out.email.username = e.username
    if c.webhook is not None:
        if c.webhook.body_template is not None:
            out.body_template = c.webhook.body_template
        out.header_templates.update(dict(c.webhook.header_templates))
    out.create_time.FromMicroseconds(c.create_time)
    out.update_time.FromMicroseconds(c.update_time)


def route_to_pb(r: Route, out: pb.Route) -> None:
    f = r.filter
    out.id, out.name, out.position = r.id, r.name, r.position
    out.connectors.extend(r.connector_ids)
    out.events.extend(sorted(f.triggers))
    if f.min_priority is not None:
        out.min_priority = f.min_priority.name
    out.categories.extend(sorted(c.name for c in f.categories))
    out.labels.extend(f"{k}={v}" for k, v in f.labels)
    out.groupings.extend(f"{k}={v}" for k, v in f.groupings)
    if r.template.title is not None:
        out.title_template = r.template.title
    if r.template.text is not None:
        out.text_template = r.template.text
    out.stop, out.enabled = r.stop, r.enabled
    out.create_time.FromMicroseconds(r.create_time)
    out.update_time.FromMicroseconds(r.update_time)


def delivery_to_pb(d: DeliveryRecord, out: pb.Delivery) -> None:
    out.id, out.connector_id, out.connector_name = d.id, d.connector_id, d.connector_name
    out.connector_type, out.state = d.connector_kind.value, d.state.value
    out.next_attempt_time.FromMicroseconds(d.next_attempt_time)
    if d.last_error:
        out.last_error = d.last_error
    if d.evidence_url:
        out.evidence_url = d.evidence_url
    for a in d.attempts:
        item = out.attempts.add(number=a.number, ok=a.ok, duration_ms=a.duration_ms)
        item.time.FromMicroseconds(a.time)
        if a.status_code is not None:
            item.status_code = a.status_code
        if a.error:
            item.error = a.error
        if a.evidence_url:
            item.evidence_url = a.evidence_url


def notification_to_pb(n: NotificationRecord, out: pb.Notification) -> None:
    out.id, out.event, out.result = n.id, n.trigger.value, n.result.value
    if n.event_id:
        out.event_id = n.event_id
    if n.route is not None:
        out.route.id, out.route.name = n.route.id, n.route.name
    for r in n.matched:
        out.matched_routes.add(id=r.id, name=r.name)
    out.time.FromMicroseconds(n.create_time)
    for d in n.deliveries:
        delivery_to_pb(d, out.deliveries.add())


# -- the operations ------------------------------------------------------------------------


def _connector(c: Connector) -> pb.ConnectorResponse:
    out = pb.ConnectorResponse()
    connector_to_pb(c, out.connector)
    return out


def _route(r: Route) -> pb.RouteResponse:
    out = pb.RouteResponse()
    route_to_pb(r, out.route)
    return out


def create_connector(c: Container, p: Principal, r: pb.CreateConnectorRequest) -> Any:
    return _connector(c.connectors.create(p, connector_input(r.connector)))


def update_connector(c: Container, p: Principal, r: pb.UpdateConnectorRequest) -> Any:
    return _connector(c.connectors.update(p, r.id, connector_input(r.connector)))


def get_connector(c: Container, p: Principal, r: pb.ConnectorRef) -> Any:
    return _connector(c.connectors.get(p, r.id))


def list_connectors(c: Container, p: Principal, _r: pb.ListConnectorsRequest) -> Any:
    out = pb.ListConnectorsResponse()
    for x in c.connectors.list_connectors(p):
        connector_to_pb(x, out.connectors.add())
    return out


def delete_connector(c: Container, p: Principal, r: pb.ConnectorRef) -> Any:
    c.connectors.delete(p, r.id)
    return pb.Empty()


def test_connector(c: Container, p: Principal, r: pb.ConnectorRef) -> Any:
    o = c.connectors.test(p, r.id)
    out = pb.TestConnectorResponse(ok=o.ok, duration_ms=o.duration_ms)
    if o.error:
        out.error = o.error
    if o.status_code is not None:
        out.status_code = o.status_code
    if o.evidence_url:
        out.evidence_url = o.evidence_url
    return out


def create_route(c: Container, p: Principal, r: pb.CreateRouteRequest) -> Any:
    return _route(c.routes.create(p, route_input(r.route)))


def update_route(c: Container, p: Principal, r: pb.UpdateRouteRequest) -> Any:
    return _route(c.routes.update(p, r.id, route_input(r.route)))


def get_route(c: Container, p: Principal, r: pb.RouteRef) -> Any:
    return _route(c.routes.get(p, r.id))


def list_routes(c: Container, p: Principal, _r: pb.ListRoutesRequest) -> Any:
    out = pb.ListRoutesResponse()
    for x in c.routes.list_routes(p):
        route_to_pb(x, out.routes.add())
    return out


def delete_route(c: Container, p: Principal, r: pb.RouteRef) -> Any:
    c.routes.delete(p, r.id)
    return pb.Empty()


def explain_routing(c: Container, p: Principal, r: pb.ExplainRoutingRequest) -> Any:
    dry = c.routes.dry_run(p, r.case_id, _opt(r, "event"), _opt(r, "event_id"))
    out = pb.ExplainRoutingResponse(case_id=dry.case.id, event=dry.trigger.value)
    for v in dry.reach.verdicts:
        item = out.routes.add(route_id=v.route.id, route_name=v.route.name, matched=v.matched,
                              evaluated=v.reached, reasons=list(v.reasons))  # fmt: skip
        for cid, conn, why in dry.reach.connectors.get(v.route.id, []):
            reach = item.connectors.add(connector_id=cid, usable=why is None)
            if conn is not None:
                reach.connector_name, reach.type = conn.name, conn.kind.value
            if why is not None:
                reach.why = why
    return out


def list_deliveries(c: Container, p: Principal, r: pb.ListDeliveriesRequest) -> Any:
    out = pb.ListDeliveriesResponse()
    for n in c.ledger.for_cases(p, [r.case_id])[r.case_id]:
        notification_to_pb(n, out.notifications.add())
    return out


def replay_delivery(c: Container, p: Principal, r: pb.DeliveryRef) -> Any:
    out = pb.DeliveryResponse()
    delivery_to_pb(c.ledger.replay(p, r.id), out.delivery)
    return out


Operation = Callable[[Container, Principal, Any], Any]
# RPC name → (request message type, implementation).
OPERATIONS: Final[dict[str, tuple[type[Any], Operation]]] = {
    "CreateConnector": (pb.CreateConnectorRequest, create_connector),
    "UpdateConnector": (pb.UpdateConnectorRequest, update_connector),
    "GetConnector": (pb.ConnectorRef, get_connector),
    "ListConnectors": (pb.ListConnectorsRequest, list_connectors),
    "DeleteConnector": (pb.ConnectorRef, delete_connector),
    "TestConnector": (pb.ConnectorRef, test_connector),
    "CreateRoute": (pb.CreateRouteRequest, create_route),
    "UpdateRoute": (pb.UpdateRouteRequest, update_route),
    "GetRoute": (pb.RouteRef, get_route),
    "ListRoutes": (pb.ListRoutesRequest, list_routes),
    "DeleteRoute": (pb.RouteRef, delete_route),
    "ExplainRouting": (pb.ExplainRoutingRequest, explain_routing),
    "ListDeliveries": (pb.ListDeliveriesRequest, list_deliveries),
    "ReplayDelivery": (pb.DeliveryRef, replay_delivery),
}
