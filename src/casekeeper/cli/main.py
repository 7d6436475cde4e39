"""``casekeeper``: serve, worker, db, keys, demo, cases, settings, signals, connectors, routes,
deliveries, export, import."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from casekeeper.cli import (
    backup,
    cases,
    connectors,
    db,
    deliveries,
    keys,
    reconcile,
    routes,
    settings,
    signals,
    spaces,
    users,
    worker,
)
from casekeeper.cli.common import DatabaseOpt, console, container_for, fail, settings_for
from casekeeper.settings import DEFAULT_GRPC, DEFAULT_HTTP, Settings, split_address
from casekeeper.store import migrate
from casekeeper.store.engine import is_sqlite

app = typer.Typer(
    help="casekeeper: a self-hosted case & incident management server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(spaces.app, name="spaces")
app.add_typer(cases.app, name="cases")
app.add_typer(settings.app, name="settings")
signals.app.command("reconcile")(reconcile.reconcile)
app.add_typer(signals.app, name="signals")
app.command("worker")(worker.worker)
app.add_typer(connectors.app, name="connectors")
app.add_typer(routes.app, name="routes")
app.add_typer(deliveries.app, name="deliveries")
app.command("export")(backup.export_)
app.command("import")(backup.import_)


@app.command("serve")
def serve(
    grpc_address: Annotated[
        str | None,
        typer.Option(
            "--grpc", help=f"gRPC listen address [env CASEKEEPER_GRPC_ADDRESS; {DEFAULT_GRPC}]."
        ),
    ] = None,
    http_address: Annotated[
        str | None,
        typer.Option(
            "--http", help=f"HTTP listen address [env CASEKEEPER_HTTP_ADDRESS; {DEFAULT_HTTP}]."
        ),
    ] = None,
    tls_cert: Annotated[
        str | None,
        typer.Option(
            "--tls-cert",
            help="PEM certificate (chain): serve TLS on both ports [env CASEKEEPER_TLS_CERT_FILE].",
        ),
    ] = None,
    tls_key: Annotated[
        str | None,
        typer.Option(
            "--tls-key", help="PEM private key of --tls-cert [env CASEKEEPER_TLS_KEY_FILE]."
        ),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            min=1,
            max=256,
            envvar="CASEKEEPER_PROCESSES",
            help="Server processes sharing both ports (SO_REUSEPORT), under one supervisor "
            "[env CASEKEEPER_PROCESSES; 1]. docs/SCALING.md.",
        ),
    ] = 1,
    reuse_port: Annotated[bool, typer.Option("--reuse-port", hidden=True)] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Serve gRPC and HTTP until SIGINT/SIGTERM. SQLite databases are migrated on start."""
    settings = settings_for(
        database_url,
        grpc_address=grpc_address,
        http_address=http_address,
        tls_cert_file=tls_cert,
        tls_key_file=tls_key,
    )
    try:
        tls = settings.tls_files()
    except ValueError as err:
        raise fail(str(err)) from None
    for name in tls or ():
        if not Path(name).is_file():
            raise fail(f"TLS file not found: {name}")
    child = os.environ.get("CASEKEEPER_PROCESS_INDEX", "")
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s %(levelname)s %(name)s{f'[{child}]' if child else ''} %(message)s",
    )
    url = settings.database_url
    if migrate.pending(url):
        if not is_sqlite(url):
            raise fail("the database schema is not current; run `casekeeper db upgrade` first")
        migrate.upgrade(url)
    scheme, transport = ("https", "TLS") if tls else ("http", "plaintext")
    banner = (
        f"casekeeper: gRPC on [bold]{settings.grpc_address}[/bold] (reflection on, "
        f"{transport}), HTTP on [bold]{scheme}://{settings.http_address}[/bold] (docs at /docs)"
    )
    if processes > 1:
        raise typer.Exit(_supervise(processes, settings, banner))
    from casekeeper.runner import serve as run_servers
    from casekeeper.supervisor import signal_ready

    with container_for(database_url, settings) as c:
        if not reuse_port:
            console.print(banner)
        run_servers(
            c,
            grpc_address=settings.grpc_address,
            http_address=settings.http_address,
            reuse_port=reuse_port,
            ready=signal_ready,
        )
        if not reuse_port:
            console.print("stopped")


def _supervise(processes: int, settings: Settings, banner: str) -> int:
    from casekeeper.supervisor import PortBusy, Supervisor, check_free

    try:
        if split_address(settings.grpc_address)[1] == split_address(settings.http_address)[1]:
            # Shared with SO_REUSEPORT, one port would hand HTTP connections to gRPC.
            raise PortBusy("gRPC and HTTP need ports of their own; give --grpc and --http two")
        for address in (settings.grpc_address, settings.http_address):
            check_free(address)
    except (PortBusy, ValueError) as err:
        raise fail(str(err)) from None
    # The children take everything already resolved (flags included) from the environment.
    env = {
        **os.environ,
        "CASEKEEPER_DATABASE_URL": settings.database_url,
        "CASEKEEPER_GRPC_ADDRESS": settings.grpc_address,
        "CASEKEEPER_HTTP_ADDRESS": settings.http_address,
        "CASEKEEPER_TLS_CERT_FILE": settings.tls_cert_file,
        "CASEKEEPER_TLS_KEY_FILE": settings.tls_key_file,
    }
    env.pop("CASEKEEPER_PROCESSES", None)
    console.print(f"{banner}; {processes} processes")
    code = Supervisor(processes, env).run()
    console.print("stopped")
    return code


@app.command("demo")
def demo(database_url: DatabaseOpt = None) -> None:
    """Load realistic demo cases and incidents into space `default` (idempotent)."""
    from casekeeper.service.demo import load_demo

    url = settings_for(database_url).database_url
    if migrate.pending(url):
        migrate.upgrade(url)
    with container_for(database_url) as c:
        made = load_demo(c.db, connectors=c.connectors, routes=c.routes)
    if made.cases or made.incidents or made.signals or made.notifications or made.users:
        console.print(
            f"demo data: {made.cases} cases and {made.incidents} incidents created, "
            f"{made.signals} alert signals ingested, an example notification connector and "
            f"routes (switched off; docs/NOTIFICATIONS.md), {made.users} users (docs/USERS.md)"
        )
    else:
        console.print("demo data already loaded")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
