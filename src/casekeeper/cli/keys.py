"""``casekeeper keys …``: API keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, console, container_for, run
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import DEFAULT_SPACE, OPERATOR, ApiKeyRow

app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


def _key_json(row: ApiKeyRow) -> dict[str, object]:
    out: dict[str, object] = {
        "id": row.id,
        "name": row.name,
        "space": row.space_name,
        "permissions": list(row.permissions),
        "prefix": row.prefix,
        "createTime": to_rfc3339(row.create_time),
    }
    if row.revoke_time is not None:
        out["revokeTime"] = to_rfc3339(row.revoke_time)
    if row.last_used_time is not None:
        out["lastUsedTime"] = to_rfc3339(row.last_used_time)
    return out


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    permission: Annotated[
        list[str] | None,
        typer.Option("--permission", "-p", help="Repeat for each, e.g. case:Read."),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="Tracecat's scopes, e.g. case:update (docs/TRACECAT.md)."),
    ] = None,
    space: Annotated[str, typer.Option("--space", help="Space; created if new.")] = DEFAULT_SPACE,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a key. The key is printed once and never stored in plain text."""
    with container_for(database_url) as c:
        new = run(
            lambda: c.keys.create(
                granted_by=OPERATOR,
                name=name,
                permissions=permission or [],
                space=space,
                scopes=scope or [],
            )
        )
    if as_json:
        print(json.dumps({**_key_json(new.row), "key": new.key}))
        return
    console.print(
        f"API key [bold]{new.row.name}[/bold] ({new.row.id}) in space {new.row.space_name}"
    )
    console.print(f"permissions: {', '.join(new.row.permissions)}")
    console.print("key (shown once, keep it safe):")
    print(new.key)


@app.command("list")
def list_keys(
    space: Annotated[str | None, typer.Option("--space", help="Only this space.")] = None,
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """List keys (never their secrets)."""
    with container_for(database_url) as c:
        rows = run(lambda: c.keys.list(OPERATOR, space=space, include_revoked=include_revoked))
    if as_json:
        print(json.dumps([_key_json(r) for r in rows]))
        return
    table = Table("id", "name", "space", "permissions", "created", "last used", "revoked")
    for r in rows:
        table.add_row(
            r.id,
            r.name,
            r.space_name,
            ", ".join(r.permissions),
            to_rfc3339(r.create_time)[:19],
            to_rfc3339(r.last_used_time)[:19] if r.last_used_time else "-",
            to_rfc3339(r.revoke_time)[:19] if r.revoke_time else "-",
        )
    console.print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`).")],
    database_url: DatabaseOpt = None,
) -> None:
    """Revoke a key: it stops working at once in this process, within seconds elsewhere."""
    with container_for(database_url) as c:
        row = run(lambda: c.keys.revoke(OPERATOR, key_id))
    console.print(f"revoked {row.name} ({row.id})")
