"""``casekeeper deliveries …``: the notification ledger of a case, and replaying a failed
delivery (docs/NOTIFICATIONS.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from casekeeper.cli.common import (
    DatabaseOpt,
    JsonOpt,
    SpaceOpt,
    console,
    container_for,
    operator,
    print_json,
    run,
)
from casekeeper.domain.notify_ledger import DeliveryRecord, NotificationRecord
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import DEFAULT_SPACE

app = typer.Typer(help="Notification deliveries: the ledger, and replays.", no_args_is_help=True)


def delivery_json(d: DeliveryRecord) -> dict[str, Any]:
    return {
        "id": d.id, "connector": {"id": d.connector_id, "name": d.connector_name,
                                  "type": d.connector_kind.value},
        "state": d.state.value, "lastError": d.last_error, "evidenceUrl": d.evidence_url,
        "nextAttemptTime": to_rfc3339(d.next_attempt_time),
        "attempts": [
            {"number": a.number, "time": to_rfc3339(a.time), "ok": a.ok,
             "statusCode": a.status_code, "error": a.error, "evidenceUrl": a.evidence_url,
             "durationMs": a.duration_ms}
            for a in d.attempts
        ],
    }  # fmt: skip


def notification_json(n: NotificationRecord) -> dict[str, Any]:
    return {
        "id": n.id, "event": n.trigger.value, "eventId": n.event_id, "result": n.result.value,
        "route": None if n.route is None else {"id": n.route.id, "name": n.route.name},
        "matchedRoutes": [{"id": r.id, "name": r.name} for r in n.matched],
        "time": to_rfc3339(n.create_time),
        "deliveries": [delivery_json(d) for d in n.deliveries],
    }  # fmt: skip


@app.command("list")
def list_deliveries(
    case: Annotated[str, typer.Option("--case", help="The case's id (CASE-12 or a UUID).")],
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Every notification of a case: its event, route, result, and each delivery's attempts."""
    with container_for(database_url) as c:
        found = run(lambda: c.ledger.for_cases(operator(c, space), [case]))[case]
    if as_json:
        print_json([notification_json(n) for n in found])
        return
    if not found:
        console.print(f"no notifications for {case}")
    for n in found:
        where = n.route.name if n.route else ", ".join(r.name for r in n.matched) or "-"
        console.print(f"{to_rfc3339(n.create_time)[:19]} {n.trigger} -> {n.result} ({where})",
                      soft_wrap=True)  # fmt: skip
        for d in n.deliveries:
            tail = f": {d.last_error}" if d.last_error else ""
            console.print(f"    {d.id} {d.connector_name} ({d.connector_kind}) {d.state}, "
                          f"{len(d.attempts)} attempt(s){tail}", soft_wrap=True)  # fmt: skip


@app.command("replay")
def replay(
    delivery_id: Annotated[str, typer.Argument(help="A failed delivery's id.")],
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Send a failed delivery again (a fresh retry budget, the same idempotency key)."""
    with container_for(database_url) as c:
        d = run(lambda: c.ledger.replay(operator(c, space), delivery_id))
    console.print(f"{d.id} is {d.state} again: the worker sends it next", soft_wrap=True)
