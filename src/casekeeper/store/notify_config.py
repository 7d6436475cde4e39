"""Connectors and routes: a space's notification configuration (docs/NOTIFICATIONS.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.notifications import (
    Connector,
    ConnectorKind,
    EmailOptions,
    MessageTemplate,
    Route,
    RouteFilter,
    SecretRef,
    Trigger,
    WebhookOptions,
)
from casekeeper.store.schema import notify_connector as nc
from casekeeper.store.schema import notify_route as nr


def _options(conn: Connector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if conn.email is not None:
        e = conn.email
        out["email"] = {
            "smtpHost": e.smtp_host, "smtpPort": e.smtp_port, "from": e.sender,
            "to": list(e.recipients), "starttls": e.starttls, "username": e.username,
        }  # fmt: skip
    if conn.webhook is not None:
        w = conn.webhook
        out["webhook"] = {
            "bodyTemplate": w.body_template,
            "headerTemplates": [[k, v] for k, v in w.header_templates],
        }
    return out


def _connector(row: Any) -> Connector:
    m = row._mapping
    opts = m["options"] or {}
    email = opts.get("email")
    webhook = opts.get("webhook")
    return Connector(
        id=m["id"],
        space_id=m["space_id"],
        name=m["name"],
        kind=ConnectorKind(m["kind"]),
        url=m["url"],
        secret=SecretRef(cipher=m["secret_cipher"], env=m["secret_env"]),
        enabled=bool(m["enabled"]),
        create_time=m["create_time"],
        update_time=m["update_time"],
        email=None
        if email is None
        else EmailOptions(
            smtp_host=email["smtpHost"],
            smtp_port=int(email["smtpPort"]),
            sender=email["from"],
            recipients=tuple(email["to"]),
            starttls=bool(email["starttls"]),
            username=email.get("username"),
        ),
        webhook=None
        if webhook is None
        else WebhookOptions(
            body_template=webhook.get("bodyTemplate"),
            header_templates=tuple((k, v) for k, v in webhook.get("headerTemplates") or ()),
        ),
    )


class ConnectorRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, c: Connector) -> None:
        self.conn.execute(sa.insert(nc).values(**self._values(c), id=c.id, space_id=c.space_id,
                                               create_time=c.create_time))  # fmt: skip

    def save(self, c: Connector) -> None:
        self.conn.execute(sa.update(nc).where(nc.c.id == c.id).values(**self._values(c)))

    @staticmethod
    def _values(c: Connector) -> dict[str, Any]:
        return {
            "name": c.name, "kind": c.kind.value, "url": c.url,
            "secret_cipher": c.secret.cipher, "secret_env": c.secret.env,
            "options": _options(c), "enabled": c.enabled, "update_time": c.update_time,
        }  # fmt: skip

    def get(self, space_id: int, connector_id: str) -> Connector | None:
        stmt = sa.select(nc).where(nc.c.space_id == space_id, nc.c.id == connector_id)
        row = self.conn.execute(stmt).first()
        return None if row is None else _connector(row)

    def by_name(self, space_id: int, name: str) -> Connector | None:
        stmt = sa.select(nc).where(nc.c.space_id == space_id, nc.c.name == name)
        row = self.conn.execute(stmt).first()
        return None if row is None else _connector(row)

    def in_space(self, space_id: int) -> list[Connector]:
        stmt = sa.select(nc).where(nc.c.space_id == space_id).order_by(nc.c.name)
        return [_connector(r) for r in self.conn.execute(stmt)]

    def by_ids(self, ids: Sequence[str]) -> dict[str, Connector]:
        if not ids:
            return {}
        stmt = sa.select(nc).where(nc.c.id.in_(sorted(set(ids))))
        return {r.id: _connector(r) for r in self.conn.execute(stmt)}

    def delete(self, space_id: int, connector_id: str) -> bool:
        stmt = sa.delete(nc).where(nc.c.space_id == space_id, nc.c.id == connector_id)
        return self.conn.execute(stmt).rowcount > 0


def _filter_json(f: RouteFilter) -> dict[str, Any]:
    return {
        "events": sorted(f.triggers),
        "minPriority": None if f.min_priority is None else f.min_priority.name,
        "categories": sorted(c.name for c in f.categories),
        "labels": [[k, v] for k, v in f.labels],
        "groupings": [[k, v] for k, v in f.groupings],
    }


def _filter(data: dict[str, Any]) -> RouteFilter:
    floor = data.get("minPriority")
    return RouteFilter(
        triggers=frozenset(Trigger(x) for x in data.get("events") or ()),
        min_priority=None if floor is None else CasePriority[floor],
        categories=frozenset(CaseCategory[x] for x in data.get("categories") or ()),
        labels=tuple((k, v) for k, v in data.get("labels") or ()),
        groupings=tuple((k, v) for k, v in data.get("groupings") or ()),
    )


def _route(row: Any) -> Route:
    m = row._mapping
    template = m["template"] or {}
    return Route(
        id=m["id"],
        space_id=m["space_id"],
        name=m["name"],
        position=m["position"],
        connector_ids=tuple(m["connector_ids"]),
        filter=_filter(m["filter"] or {}),
        template=MessageTemplate(title=template.get("title"), text=template.get("text")),
        stop=bool(m["stop"]),
        enabled=bool(m["enabled"]),
        create_time=m["create_time"],
        update_time=m["update_time"],
    )


class RouteRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, r: Route) -> None:
        self.conn.execute(sa.insert(nr).values(**self._values(r), id=r.id, space_id=r.space_id,
                                               create_time=r.create_time))  # fmt: skip

    def save(self, r: Route) -> None:
        self.conn.execute(sa.update(nr).where(nr.c.id == r.id).values(**self._values(r)))

    @staticmethod
    def _values(r: Route) -> dict[str, Any]:
        return {
            "name": r.name, "position": r.position, "connector_ids": list(r.connector_ids),
            "filter": _filter_json(r.filter),
            "template": {"title": r.template.title, "text": r.template.text},
            "stop": r.stop, "enabled": r.enabled, "update_time": r.update_time,
        }  # fmt: skip

    def get(self, space_id: int, route_id: str) -> Route | None:
        stmt = sa.select(nr).where(nr.c.space_id == space_id, nr.c.id == route_id)
        row = self.conn.execute(stmt).first()
        return None if row is None else _route(row)

    def by_name(self, space_id: int, name: str) -> Route | None:
        stmt = sa.select(nr).where(nr.c.space_id == space_id, nr.c.name == name)
        row = self.conn.execute(stmt).first()
        return None if row is None else _route(row)

    def in_space(self, space_id: int) -> list[Route]:
        stmt = (
            sa.select(nr)
            .where(nr.c.space_id == space_id)
            .order_by(nr.c.position, nr.c.create_time, nr.c.id)
        )
        return [_route(r) for r in self.conn.execute(stmt)]

    def for_spaces(self, space_ids: Sequence[int]) -> dict[int, list[Route]]:
        out: dict[int, list[Route]] = {s: [] for s in space_ids}
        if not space_ids:
            return out
        stmt = (
            sa.select(nr)
            .where(nr.c.space_id.in_(sorted(set(space_ids))))
            .order_by(nr.c.position, nr.c.create_time, nr.c.id)
        )
        for row in self.conn.execute(stmt):
            out[row.space_id].append(_route(row))
        return out

    def using(self, space_id: int, connector_id: str) -> list[Route]:
        return [r for r in self.in_space(space_id) if connector_id in r.connector_ids]

    def count(self, space_id: int) -> int:
        stmt = sa.select(sa.func.count()).select_from(nr).where(nr.c.space_id == space_id)
        return int(self.conn.execute(stmt).scalar_one())

    def next_position(self, space_id: int) -> int:
        stmt = sa.select(sa.func.max(nr.c.position)).where(nr.c.space_id == space_id)
        top = self.conn.execute(stmt).scalar_one()
        return 10 if top is None else int(top) + 10

    def delete(self, space_id: int, route_id: str) -> bool:
        stmt = sa.delete(nr).where(nr.c.space_id == space_id, nr.c.id == route_id)
        return self.conn.execute(stmt).rowcount > 0
