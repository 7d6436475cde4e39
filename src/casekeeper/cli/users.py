"""``casekeeper users …``: people who log in (docs/USERS.md)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, console, container_for, fail, run
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import DEFAULT_SPACE, OPERATOR
from casekeeper.service.users import Role, UserView

app = typer.Typer(
    help="Users: create, list, disable, set a role, their sessions.", no_args_is_help=True
)
ROLES = "/".join(r.value for r in Role)


def _json(u: UserView) -> dict[str, object]:
    return {
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "fullName": u.full_name,
        "disabled": u.disabled,
        "roles": {space: role.value for space, role in u.roles},
    }


def _show(u: UserView, as_json: bool) -> None:
    if as_json:
        print(json.dumps(_json(u)))
        return
    roles = ", ".join(f"{role.value} in {space}" for space, role in u.roles) or "no role"
    state = " (disabled)" if u.disabled else ""
    console.print(f"user [bold]{u.username}[/bold] ({u.id}){state}: {roles}")


@app.command("create")
def create(
    username: Annotated[str, typer.Option("--username", help="The login name.")],
    role: Annotated[str, typer.Option("--role", help=f"{ROLES} in the space.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    space: Annotated[str, typer.Option("--space", help="Space; created if new.")] = DEFAULT_SPACE,
    email: Annotated[str | None, typer.Option("--email")] = None,
    full_name: Annotated[str | None, typer.Option("--full-name")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a user with a role in one space. The password comes on standard input, never as
    an argument (arguments show in the process list and the shell's history)."""
    if not password_stdin:
        raise fail("give --password-stdin and the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    with container_for(database_url) as c:
        user = run(
            lambda: c.users.create(
                OPERATOR, username=username, password=password, space=space, role=role,
                email=email, full_name=full_name,
            )
        )  # fmt: skip
    _show(user, as_json)


@app.command("list")
def list_users(
    space: Annotated[str | None, typer.Option("--space", help="Only users of this space.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """List users with their roles."""
    with container_for(database_url) as c:
        users = run(lambda: c.users.list_users(OPERATOR, space))
    if as_json:
        print(json.dumps([_json(u) for u in users]))
        return
    table = Table("username", "full name", "e-mail", "roles", "state")
    for u in users:
        roles = ", ".join(f"{space}: {role.value}" for space, role in u.roles) or "-"
        state = "disabled" if u.disabled else "active"
        table.add_row(u.username, u.full_name or "", u.email or "", roles, state)
    console.print(table)


@app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="The user to disable.")],
    enable: Annotated[bool, typer.Option("--enable", help="Enable the user again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Disable a user (no more logins, at once); --enable undoes it."""
    with container_for(database_url) as c:
        user = run(lambda: c.users.set_disabled(OPERATOR, username, not enable))
    _show(user, as_json)


@app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument(help="The user.")],
    role: Annotated[str, typer.Option("--role", help=f"{ROLES}, or none to remove.")],
    space: Annotated[str, typer.Option("--space", help="The space.")] = DEFAULT_SPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Set the user's role in a space (none: take the space away)."""
    wanted = None if role.strip().lower() == "none" else role
    with container_for(database_url) as c:
        user = run(lambda: c.users.set_role(OPERATOR, username, space, wanted))
    _show(user, as_json)


@app.command("sessions")
def sessions(
    username: Annotated[str, typer.Argument(help="The user.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """List the user's login sessions, newest first (docs/SESSIONS.md)."""
    with container_for(database_url) as c:
        rows = run(lambda: c.sessions.list_for(OPERATOR, username))
        now = c.sessions.clock()
        idle = c.sessions.idle
    out = []
    for r in rows:
        live = r.revoke_time is None and now < min(r.end_time, r.last_seen_time + idle)
        out.append({
            "id": r.id, "created": to_rfc3339(r.create_time),
            "lastSeen": to_rfc3339(r.last_seen_time), "ends": to_rfc3339(r.end_time),
            "revoked": to_rfc3339(r.revoke_time) if r.revoke_time else None, "live": live,
            "address": r.address, "userAgent": r.user_agent,
        })  # fmt: skip
    if as_json:
        print(json.dumps(out))
        return
    table = Table("id", "created", "last seen", "state", "address", "user agent")
    for s in out:
        state = "live" if s["live"] else ("revoked" if s["revoked"] else "ended")
        table.add_row(str(s["id"]), str(s["created"]), str(s["lastSeen"]), state,
                      str(s["address"] or ""), str(s["userAgent"] or "")[:40])  # fmt: skip
    console.print(table)


@app.command("revoke-sessions")
def revoke_sessions(
    username: Annotated[str, typer.Argument(help="The user.")],
    database_url: DatabaseOpt = None,
) -> None:
    """End every live session of the user (they log in again)."""
    with container_for(database_url) as c:
        count = run(lambda: c.sessions.revoke_all(OPERATOR, username))
    console.print(f"ended {count} session(s) of {username}")
