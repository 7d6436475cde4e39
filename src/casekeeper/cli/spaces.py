"""``casekeeper spaces …``: the spaces (tenants) and their stable UUIDs."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, console, container_for, run
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import OPERATOR

app = typer.Typer(help="Spaces: list them with their UUIDs.", no_args_is_help=True)


@app.command("list")
def list_spaces(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Every space, its UUID (Tracecat's workspace_id: stable for the space's life) and when
    it was created."""
    with container_for(database_url) as c:
        rows = run(lambda: c.admin.spaces(OPERATOR))
    if as_json:
        print(json.dumps([
            {"name": r.name, "uuid": r.uuid, "createTime": to_rfc3339(r.create_time)}
            for r in rows
        ]))  # fmt: skip
        return
    table = Table("space", "uuid (workspace_id)", "created")
    for r in rows:
        table.add_row(r.name, r.uuid, to_rfc3339(r.create_time))
    console.print(table)
