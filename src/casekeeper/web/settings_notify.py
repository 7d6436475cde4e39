"""Settings: notification connectors and routes — list, create, switch on and off, delete,
and send a connector a test message (docs/NOTIFICATIONS.md). Secrets are written, never shown."""

from __future__ import annotations

from typing import Final

from starlette.responses import Response

from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.domain.notifications import ConnectorKind, Trigger
from casekeeper.service.notify_config import ConnectorInput
from casekeeper.service.notify_routes import RouteInput
from casekeeper.web.http import BASE, Page, redirect

BACK: Final = BASE + "/settings/notifications"
KINDS: Final = [k.value for k in ConnectorKind]
TRIGGERS: Final = [t.value for t in Trigger if t is not Trigger.TEST]


def notifications(page: Page) -> Response:
    connectors = page.c.connectors.list_connectors(page.p)
    routes = page.c.routes.list_routes(page.p)
    names = {x.id: x.name for x in connectors}
    return page.render("settings_notify.html", connectors=connectors, routes=routes,
                       connector_names=names, kinds=KINDS, triggers=TRIGGERS,
                       tab="notify")  # fmt: skip


def _listed(raw: str | None) -> tuple[str, ...]:
    return tuple(x.strip() for x in (raw or "").replace("\n", ",").split(",") if x.strip())


def connector_action(page: Page) -> Response:
    c, p = page.c, page.p
    action = page.field("action") or ""
    ident = page.field("id") or ""
    try:
        match action:
            case "create":
                made = c.connectors.create(p, ConnectorInput(
                    name=page.field("name"), kind=page.field("kind"), url=page.field("url"),
                    secret=page.field("secret"), smtp=page.field("smtp"),
                    sender=page.field("sender"),
                    recipients=_listed(page.field("recipients")) or None,
                    enabled=page.field("enabled") == "on",
                ))  # fmt: skip
                return redirect(BACK, "ok", f"connector {made.name} created")
            case "enable" | "disable":
                c.connectors.update(p, ident, ConnectorInput(enabled=action == "enable"))
            case "delete":
                c.connectors.delete(p, ident)
            case "test":
                outcome = c.connectors.test(p, ident)
                if not outcome.ok:
                    return redirect(BACK, "error", f"test message failed: "
                                    f"{outcome.error or 'no reason given'}")  # fmt: skip
                return redirect(BACK, "ok", f"test message delivered ({outcome.duration_ms} ms)")
            case _:
                raise invalid(f"unknown action {action[:40]!r}", field="action")
    except CasekeeperError as err:
        return redirect(BACK, "error", err.message)
    return redirect(BACK, "ok", f"connector {action}d")


def route_action(page: Page) -> Response:
    c, p = page.c, page.p
    action = page.field("action") or ""
    ident = page.field("id") or ""
    try:
        match action:
            case "create":
                made = c.routes.create(p, RouteInput(
                    name=page.field("name"), connectors=tuple(page.fields("connectors")),
                    events=tuple(page.fields("events")) or None,
                    min_priority=page.field("min_priority"),
                    categories=tuple(page.fields("categories")) or None,
                    labels=_listed(page.field("labels")) or None,
                    stop=page.field("stop") == "on", enabled=page.field("enabled") == "on",
                ))  # fmt: skip
                return redirect(BACK, "ok", f"route {made.name} created")
            case "enable" | "disable":
                c.routes.update(p, ident, RouteInput(enabled=action == "enable"))
            case "delete":
                c.routes.delete(p, ident)
            case _:
                raise invalid(f"unknown action {action[:40]!r}", field="action")
    except CasekeeperError as err:
        return redirect(BACK, "error", err.message)
    return redirect(BACK, "ok", f"route {action}d")
