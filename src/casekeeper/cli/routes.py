"""``casekeeper routes …``: which case events reach which connectors, in order, and ``explain``,
the dry run that answers "why was I (not) paged?" (docs/NOTIFICATIONS_CLI.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

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
from casekeeper.domain.notifications import Route
from casekeeper.service.auth import DEFAULT_SPACE
from casekeeper.service.notify_routes import RouteInput

app = typer.Typer(help="Notification routes: which case events go where.", no_args_is_help=True)


def route_json(r: Route) -> dict[str, Any]:
    f = r.filter
    return {
        "id": r.id, "name": r.name, "position": r.position, "connectors": list(r.connector_ids),
        "events": sorted(f.triggers),
        "minPriority": None if f.min_priority is None else f.min_priority.name,
        "categories": sorted(c.name for c in f.categories),
        "labels": [f"{k}={v}" for k, v in f.labels],
        "groupings": [f"{k}={v}" for k, v in f.groupings],
        "titleTemplate": r.template.title, "textTemplate": r.template.text,
        "stop": r.stop, "enabled": r.enabled,
    }  # fmt: skip


@app.command("create")
def create_route(
    name: Annotated[str, typer.Option("--name", help="Unique in the space.")],
    connector: Annotated[list[str], typer.Option("--connector", help="Id or name; repeatable.")],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="opened, acknowledged, resolved…; repeatable."),
    ] = None,
    min_priority: Annotated[str | None, typer.Option("--min-priority", help="P1 … P5.")] = None,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="SECURITY or AVAILABILITY.")
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", help="k=v on the case; repeatable.")
    ] = None,
    grouping: Annotated[
        list[str] | None, typer.Option("--grouping", help="k=v; repeatable.")
    ] = None,
    title_template: Annotated[str | None, typer.Option("--title-template")] = None,
    text_template: Annotated[str | None, typer.Option("--text-template")] = None,
    stop: Annotated[
        bool, typer.Option("--stop", help="When it matches, evaluate no later route.")
    ] = False,
    position: Annotated[
        int | None, typer.Option("--position", help="Order (default: last).")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a route; with --json, print it as one JSON object (its ``id`` included)."""
    inp = RouteInput(
        name=name, connectors=tuple(connector), events=tuple(event) if event else None,
        min_priority=min_priority, categories=tuple(category) if category else None,
        labels=tuple(label) if label else None, groupings=tuple(grouping) if grouping else None,
        title_template=title_template, text_template=text_template, stop=stop, position=position,
        enabled=not disabled,
    )  # fmt: skip
    with container_for(database_url) as c:
        made = run(lambda: c.routes.create(operator(c, space), inp))
    if as_json:
        print_json(route_json(made))
        return
    console.print(f"route [bold]{made.name}[/bold] created: {made.id}")


@app.command("list")
def list_routes(
    space: SpaceOpt = DEFAULT_SPACE, as_json: JsonOpt = False, database_url: DatabaseOpt = None
) -> None:
    """List the space's routes, in the order they are evaluated."""
    with container_for(database_url) as c:
        rows = run(lambda: c.routes.list_routes(operator(c, space)))
        names = {x.id: x.name for x in c.connectors.list_connectors(operator(c, space))}
    if as_json:
        print_json([route_json(r) for r in rows])
        return
    table = Table("position", "id", "name", "events", "filter", "connectors", "stop", "enabled")
    for r in rows:
        j = route_json(r)
        filt = ", ".join(filter(None, [
            j["minPriority"] and f">= {j['minPriority']}", *j["categories"], *j["labels"],
            *j["groupings"],
        ])) or "-"  # fmt: skip
        table.add_row(str(r.position), r.id, r.name, ", ".join(j["events"]) or "all", filt,
                      ", ".join(names.get(i, i) for i in r.connector_ids),
                      "yes" if r.stop else "", "yes" if r.enabled else "no")  # fmt: skip
    console.print(table)


@app.command("delete")
def delete_route(
    ref: Annotated[str, typer.Argument(help="The route's id or name.")],
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Delete a route."""
    with container_for(database_url) as c:
        run(lambda: c.routes.delete(operator(c, space), ref))
    console.print(f"deleted {ref}")


@app.command("explain")
def explain(
    case: Annotated[str, typer.Option("--case", help="The case's id (CASE-12 or a UUID).")],
    event: Annotated[
        str | None, typer.Option("--event", help="The trigger; default opened.")
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--event-id", help="An event on its timeline.")
    ] = None,
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Which routes and connectors an event on a case would reach now, and why (not)."""
    with container_for(database_url) as c:
        dry = run(lambda: c.routes.dry_run(operator(c, space), case, event, event_id))
    rows: list[dict[str, Any]] = []
    for v in dry.reach.verdicts:
        reached = [
            {"id": cid, "name": conn.name if conn else None, "usable": why is None, "why": why}
            for cid, conn, why in dry.reach.connectors.get(v.route.id, [])
        ]
        rows.append({"route": v.route.name, "id": v.route.id, "matched": v.matched,
                     "evaluated": v.reached, "reasons": list(v.reasons),
                     "connectors": reached})  # fmt: skip
    if as_json:
        print_json({"case": dry.case.id, "event": dry.trigger.value, "routes": rows})
        return
    name = dry.case.readable_id or dry.case.id
    console.print(f"{name}, event {dry.trigger}:", soft_wrap=True)
    if not rows:
        console.print("  no routes in this space: nobody would be notified")
    for r in rows:
        mark = "MATCH" if r["matched"] else "no   "
        console.print(f"  {mark} {r['route']}: {'; '.join(r['reasons'])}", soft_wrap=True)
        for conn in r["connectors"]:
            state = "would send" if conn["usable"] else f"would not send ({conn['why']})"
            console.print(f"        -> {conn['name'] or conn['id']}: {state}", soft_wrap=True)
