"""``casekeeper db …``: schema migrations, and copying the whole database (docs/BACKUP.md)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from casekeeper.cli.backup import bars, interrupted, summary, transfer_failed
from casekeeper.cli.common import DatabaseOpt, console, err_console, settings_for
from casekeeper.store import migrate
from casekeeper.store.transfer import TransferError, copy_database

app = typer.Typer(help="Database schema: migrate, inspect, copy.", no_args_is_help=True)


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


@app.command("copy")
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="URL of the empty database to copy into (postgresql://user@host/name, "
            "sqlite:///path).",
        ),
    ],
    database_url: DatabaseOpt = None,
) -> None:
    """Copy every row of the configured database into the empty database --to (migrated to
    the newest schema first), then verify every table's row count and checksum. All or
    nothing: on any failure the target is left empty. Stop the server first."""
    source = settings_for(database_url).database_url
    started = time.perf_counter()
    try:
        with bars(console) as progress:
            results = copy_database(source, to, progress)
    except TransferError as err:
        raise transfer_failed(err, err_console) from None
    except KeyboardInterrupt:
        raise interrupted() from None
    summary(console, results)
    rows = sum(r.rows for r in results)
    console.print(
        f"copied {rows:,} rows in {time.perf_counter() - started:.1f} s; every table's count "
        "and checksum match. Point casekeeper at the new database (--database-url or "
        "CASEKEEPER_DATABASE_URL)."
    )
