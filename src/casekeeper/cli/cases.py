"""``casekeeper cases …``: work cases from a terminal."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, console, container_for, fail, operator, run
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from casekeeper.domain.enums import CasePriority, CaseStatus, OrderDirection, OrderField
from casekeeper.domain.model import Case, PriorityDetails
from casekeeper.domain.query import CaseFilters, CaseOrder, CaseQuery, PageRequest
from casekeeper.domain.timeutil import now_us, to_rfc3339
from casekeeper.service.auth import DEFAULT_SPACE

app = typer.Typer(help="Cases: list, inspect and work them.", no_args_is_help=True)

SpaceOpt = Annotated[str, typer.Option("--space", help="Space (tenant).")]
IdArg = Annotated[str, typer.Argument(help="Case id: CASE-123 (any case) or the UUID.")]
_STATUS_STYLE = {
    CaseStatus.PENDING_ACTIVATION: "dim",
    CaseStatus.ACTIVE: "bold red",
    CaseStatus.ACKNOWLEDGED: "yellow",
    CaseStatus.RESOLVED: "green",
    CaseStatus.CLOSED: "dim green",
}


def _status(s: CaseStatus) -> str:
    return f"[{_STATUS_STYLE[s]}]{s.name}[/]"


def _parse_enum(
    values: list[str], enum: type[CaseStatus] | type[CasePriority], what: str
) -> tuple[int, ...]:
    out = []
    for raw in values:
        name = raw.strip().upper().removeprefix("CASE_STATUS_").removeprefix("CASE_PRIORITY_")
        member = enum.__members__.get(name)
        if member is None or member.value == 0:
            choices = ", ".join(m for m in enum.__members__ if m != "UNSPECIFIED")
            raise fail(f"unknown {what} {raw!r}; choose from {choices}")
        out.append(member.value)
    return tuple(out)


def _show(case: Case) -> None:
    now = now_us()
    table = Table(show_header=False, box=None)
    rows: list[tuple[str, str]] = [
        ("id", case.id),
        ("readable id", case.readable_id or "- (pending activation)"),
        ("title", case.title),
        ("status", _status(case.status)),
        ("priority", f"{case.effective_priority.name}"
         + (f" (override; system {case.priority.system.name})" if case.priority.override else "")),
        ("category", case.category.name),
        ("assignee", case.assignee or "-"),
        ("created", to_rfc3339(case.create_time)),
        ("updated", to_rfc3339(case.update_time)),
        ("duration", f"{case.duration_ms(now) // 60000} min"),
        ("groupings", ", ".join(f"{kv.key}={kv.value}" for kv in case.groupings) or "-"),
        ("labels", ", ".join(f"{kv.key}={kv.value}" for kv in case.labels) or "-"),
    ]  # fmt: skip
    if case.resolution and case.resolution.reason:
        rows.append(("resolution", case.resolution.reason))
    for k, v in rows:
        table.add_row(f"[bold]{k}[/]", v)
    console.print(table)


@app.command("list")
def list_cases(
    status: Annotated[
        list[str], typer.Option("--status", "-s", help="e.g. ACTIVE; repeatable.")
    ] = [],  # noqa: B006
    priority: Annotated[
        list[str], typer.Option("--priority", "-p", help="e.g. P1; repeatable.")
    ] = [],  # noqa: B006
    assignee: Annotated[str | None, typer.Option("--assignee", help="User id, or 'none'.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Text in the title.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    by_priority: Annotated[bool, typer.Option("--by-priority", help="Most urgent first.")] = False,
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """List cases, newest first."""
    filters = CaseFilters(
        statuses=_parse_enum(status, CaseStatus, "status"),  # type: ignore[arg-type]
        priorities=_parse_enum(priority, CasePriority, "priority"),  # type: ignore[arg-type]
        assignees=(assignee,) if assignee and assignee != "none" else (),
        include_unassigned=assignee == "none",
        text_search=search,
    )
    order = (
        CaseOrder(OrderField.PRIORITY, OrderDirection.DESCENDING) if by_priority else CaseOrder()
    )
    query = CaseQuery(filters=filters, order=order, page=PageRequest(size=limit))
    with container_for(database_url) as c:
        cases, token = run(lambda: c.cases.list_cases(operator(c, space), query))
    table = Table("id", "status", "prio", "category", "title", "assignee", "updated")
    for x in cases:
        table.add_row(
            x.readable_id or x.id[:8],
            _status(x.status),
            x.effective_priority.name,
            x.category.name.lower(),
            x.title,
            (x.assignee or "-")[:8],
            to_rfc3339(x.update_time)[:16].replace("T", " "),
        )
    console.print(table)
    if token:
        console.print(f"[dim]more cases match; raise --limit (showing {len(cases)})[/dim]")


@app.command("get")
def get(case_id: IdArg, space: SpaceOpt = DEFAULT_SPACE, database_url: DatabaseOpt = None) -> None:
    """Show one case and its timeline."""
    with container_for(database_url) as c:
        who = operator(c, space)
        case = run(lambda: c.cases.get(who, case_id))
        events = run(lambda: c.timeline.list_events(who, case_id))
    _show(case)
    table = Table("when", "event", "by", "details", title="timeline")
    for e in events:
        details = ", ".join(
            f"{f.name}={_shown(getattr(e.data, f.name))}"
            for f in dataclasses.fields(e.data)
            if getattr(e.data, f.name) not in ((), {}, None)
        )
        table.add_row(
            to_rfc3339(e.event_time)[:19].replace("T", " "),
            e.kind.value,
            e.actor.label,
            details[:100],
        )
    console.print(table)


def _act(
    case_id: str, space: str, database_url: str | None, verb: str, command: cmd.CaseCommand
) -> None:
    with container_for(database_url) as c:
        who = operator(c, space)
        case = run(lambda: c.cases.change(who, CaseChange(case_id, (command,))))
    console.print(f"{case.readable_id or case.id}: {verb} — status {_status(case.status)}")


@app.command("ack")
def ack(case_id: IdArg, space: SpaceOpt = DEFAULT_SPACE, database_url: DatabaseOpt = None) -> None:
    """Acknowledge a case."""
    _act(case_id, space, database_url, "acknowledged", cmd.Acknowledge())


@app.command("close")
def close(
    case_id: IdArg, space: SpaceOpt = DEFAULT_SPACE, database_url: DatabaseOpt = None
) -> None:
    """Close a case."""
    _act(case_id, space, database_url, "closed", cmd.Close())


@app.command("reopen")
def reopen(
    case_id: IdArg, space: SpaceOpt = DEFAULT_SPACE, database_url: DatabaseOpt = None
) -> None:
    """Reopen a resolved or closed case: it becomes active again."""
    _act(case_id, space, database_url, "reopened", cmd.Reopen())


@app.command("resolve")
def resolve(
    case_id: IdArg,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (≤ 4096 characters).")] = None,
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Resolve a case."""
    _act(case_id, space, database_url, "resolved", cmd.Resolve(reason))


@app.command("assign")
def assign(
    case_id: IdArg,
    user: Annotated[str | None, typer.Option("--user", help="User id (UUID).")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Unassign instead.")] = False,
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Assign a case to a user (or --clear)."""
    if not clear and not user:
        raise fail("give --user <uuid> or --clear")
    with container_for(database_url) as c:
        who = operator(c, space)
        if clear:
            case = run(lambda: c.cases.change(who, CaseChange(case_id, (cmd.Unassign(),))))
        else:
            case = run(lambda: c.cases.change(who, CaseChange(case_id, (cmd.Assign(user or ""),))))
    console.print(f"{case.readable_id or case.id}: assignee {case.assignee or '-'}")


@app.command("comment")
def comment(
    case_id: IdArg,
    text: Annotated[str, typer.Option("--text", "-m", help="The comment.")],
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Add a comment to a case's timeline."""
    with container_for(database_url) as c:
        event = run(lambda: c.timeline.create_comment(operator(c, space), case_id, text))
    console.print(f"comment {event.event_id} added")


def _shown(value: object) -> str:
    """A timeline value for a terminal: enums by name, priorities as P1 (or P3→P1)."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, PriorityDetails):
        system = value.system.name
        return system if value.override is None else f"{system}→{value.override.name}"
    return str(value)


@app.command("explain")
def explain(
    case_id: IdArg, space: SpaceOpt = DEFAULT_SPACE, database_url: DatabaseOpt = None
) -> None:
    """Why the case has its priority, and which alert groups and firings made it."""
    with container_for(database_url) as c:
        who = operator(c, space)
        why = run(lambda: c.signals.explain(who, case_id))
    console.print(f"[bold]priority[/bold] {why.priority}: {why.priority_reason}")
    for group in why.groups:
        console.print(f"[bold]grouped by[/bold] {group}")
    table = Table("source", "dedup key", "started", "status", "incident", title="firings")
    for f in why.firings:
        table.add_row(
            f.source.value,
            f.dedup_key,
            to_rfc3339(f.starts_at)[:19].replace("T", " "),
            f.status.value,
            f.incident_id or "-",
        )
    console.print(table)
