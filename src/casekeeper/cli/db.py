"""``casekeeper db …``: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from casekeeper.cli.common import DatabaseOpt, console, settings_for
from casekeeper.store import migrate

app = typer.Typer(help="Database schema: migrate, inspect.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(database_url: DatabaseOpt = None, revision: str = "head") -> None:
    """Migrate the configured database to the latest schema (or REVISION)."""
    url = settings_for(database_url).database_url
    migrate.upgrade(url, revision)
    console.print(f"database at [bold]{revision}[/bold]")


@app.command("downgrade")
def downgrade(revision: Annotated[str, typer.Argument()], database_url: DatabaseOpt = None) -> None:
    """Migrate down to REVISION (e.g. -1 or base)."""
    migrate.downgrade(settings_for(database_url).database_url, revision)


@app.command("current")
def current(database_url: DatabaseOpt = None) -> None:
    """Show the schema revision of the configured database."""
    migrate.current(settings_for(database_url).database_url)


@app.command("check")
def check(database_url: DatabaseOpt = None) -> None:
    """Fail if the models and the migrated schema differ."""
    migrate.check(settings_for(database_url).database_url)
    console.print("no schema drift")
