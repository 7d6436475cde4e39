"""``casekeeper connectors …`` and ``casekeeper routes …``: a space's notification setup from a
terminal (docs/NOTIFICATIONS_CLI.md). Secrets go in by ``--secret-stdin`` or ``--secret-env``
and never come out: listings show ``stored``, ``env:VAR`` or ``none``."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, SpaceOpt, console, container_for, fail, operator, run
from casekeeper.domain.notifications import Connector, Route
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import DEFAULT_SPACE
from casekeeper.service.notify_config import ConnectorInput
from casekeeper.service.notify_routes import RouteInput

connectors = typer.Typer(help="Notification connectors: where messages go.", no_args_is_help=True)
routes = typer.Typer(help="Notification routes: which case events go where.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def connector_json(c: Connector) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id, "name": c.name, "type": c.kind.value, "url": c.url,
        "secret": c.secret.shown, "enabled": c.enabled,
        "createTime": to_rfc3339(c.create_time), "updateTime": to_rfc3339(c.update_time),
    }  # fmt: skip
    if c.email is not None:
        e = c.email
        out["email"] = {"smtp": f"{e.smtp_host}:{e.smtp_port}", "from": e.sender,
                        "to": list(e.recipients), "starttls": e.starttls,
                        "username": e.username}  # fmt: skip
    if c.webhook is not None:
        out["bodyTemplate"] = c.webhook.body_template
        out["headerTemplates"] = dict(c.webhook.header_templates)
    return out


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


def _print(obj: Any) -> None:
    print(json.dumps(obj))


def _secret_from_stdin() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise fail("--secret-stdin: nothing was read from standard input")
    return line


@connectors.command("create")
def create_connector(
    name: Annotated[str, typer.Option("--name", help="Unique in the space.")],
    kind: Annotated[
        str, typer.Option("--type", help="webhook, slack, teams, mattermost, pagerduty or email.")
    ],
    url: Annotated[str | None, typer.Option("--url", help="Where to send (not for email).")] = None,
    secret_env: Annotated[
        str | None,
        typer.Option("--secret-env", help="A variable the worker reads the secret from."),
    ] = None,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the secret from standard input.")
    ] = False,
    smtp: Annotated[str | None, typer.Option("--smtp", help="E-mail: HOST:PORT.")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="E-mail: the sender.")] = None,
    to: Annotated[
        list[str] | None, typer.Option("--to", help="E-mail: repeat per recipient.")
    ] = None,
    starttls: Annotated[bool, typer.Option("--starttls", help="E-mail: STARTTLS.")] = False,
    username: Annotated[str | None, typer.Option("--username", help="E-mail: AUTH user.")] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="Webhook: NAME=TEMPLATE, repeatable.")
    ] = None,
    body_template: Annotated[
        str | None, typer.Option("--body-template", help="Webhook: a file with the body template.")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a connector; with --json, print it as one JSON object (its ``id`` included)."""
    headers = None
    if header:
        pairs = [h.partition("=") for h in header]
        if any(not sep or not k for k, sep, _ in pairs):
            raise fail("--header takes NAME=TEMPLATE")
        headers = tuple((k, v) for k, _, v in pairs)
    body = None
    if body_template is not None:
        try:
            with open(body_template) as fh:
                body = fh.read()
        except OSError as exc:
            raise fail(f"--body-template: {exc.strerror}: {body_template}") from None
    inp = ConnectorInput(
        name=name, kind=kind, url=url, secret_env=secret_env,
        secret=_secret_from_stdin() if secret_stdin else None,
        smtp=smtp, sender=sender, recipients=tuple(to) if to else None,
        starttls=starttls if smtp else None, username=username,
        body_template=body, header_templates=headers, enabled=not disabled,
    )  # fmt: skip
    with container_for(database_url) as c:
        made = run(lambda: c.connectors.create(operator(c, space), inp))
    if as_json:
        _print(connector_json(made))
        return
    console.print(f"connector [bold]{made.name}[/bold] ({made.kind}) created: {made.id}")


@connectors.command("list")
def list_connectors(
    space: SpaceOpt = DEFAULT_SPACE, as_json: JsonOpt = False, database_url: DatabaseOpt = None
) -> None:
    """List the space's connectors (never their secrets)."""
    with container_for(database_url) as c:
        rows = run(lambda: c.connectors.list_connectors(operator(c, space)))
    if as_json:
        _print([connector_json(x) for x in rows])
        return
    table = Table("id", "name", "type", "url", "secret", "enabled")
    for x in rows:
        where = x.url or (
            f"smtp {x.email.smtp_host}:{x.email.smtp_port}" if x.email else "(secret)"
        )
        table.add_row(
            x.id, x.name, x.kind.value, where, x.secret.shown, "yes" if x.enabled else "no"
        )
    console.print(table)


@connectors.command("test")
def send_test(
    ref: Annotated[str, typer.Argument(help="The connector's id or name.")],
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Send a test notification now (outside the ledger); exit 1 if it failed."""
    with container_for(database_url) as c:
        outcome = run(lambda: c.connectors.test(operator(c, space), ref))
    if as_json:
        o = outcome
        _print({"ok": o.ok, "error": o.error, "statusCode": o.status_code,
                "durationMs": o.duration_ms, "evidenceUrl": o.evidence_url})  # fmt: skip
    elif outcome.ok:
        console.print(f"delivered in {outcome.duration_ms} ms (status {outcome.status_code})")
    else:
        console.print(f"failed: {outcome.error}", soft_wrap=True)
    if not outcome.ok:
        raise typer.Exit(1)


@connectors.command("delete")
def delete_connector(
    ref: Annotated[str, typer.Argument(help="The connector's id or name.")],
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Delete a connector no route uses."""
    with container_for(database_url) as c:
        run(lambda: c.connectors.delete(operator(c, space), ref))
    console.print(f"deleted {ref}")


@routes.command("create")
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
    )  # fmt: skip
    with container_for(database_url) as c:
        made = run(lambda: c.routes.create(operator(c, space), inp))
    if as_json:
        _print(route_json(made))
        return
    console.print(f"route [bold]{made.name}[/bold] created: {made.id}")


@routes.command("list")
def list_routes(
    space: SpaceOpt = DEFAULT_SPACE, as_json: JsonOpt = False, database_url: DatabaseOpt = None
) -> None:
    """List the space's routes, in the order they are evaluated."""
    with container_for(database_url) as c:
        rows = run(lambda: c.routes.list_routes(operator(c, space)))
        names = {x.id: x.name for x in c.connectors.list_connectors(operator(c, space))}
    if as_json:
        _print([route_json(r) for r in rows])
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


@routes.command("delete")
def delete_route(
    ref: Annotated[str, typer.Argument(help="The route's id or name.")],
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Delete a route."""
    with container_for(database_url) as c:
        run(lambda: c.routes.delete(operator(c, space), ref))
    console.print(f"deleted {ref}")


@routes.command("explain")
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
        _print({"case": dry.case.id, "event": dry.trigger.value, "routes": rows})
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
