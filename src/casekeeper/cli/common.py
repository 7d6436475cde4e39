"""What every command shares: the database option, the container, error reporting."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain.errors import CasekeeperError
from casekeeper.service.auth import DEFAULT_SPACE, Principal
from casekeeper.service.permissions import Permission
from casekeeper.settings import Settings

console = Console()
err_console = Console(stderr=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CASEKEEPER_DATABASE_URL",
        help="SQLAlchemy URL (default: sqlite:///./casekeeper.db).",
        show_envvar=True,
    ),
]
SpaceOpt = Annotated[str, typer.Option("--space", help="Space (tenant).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
T = TypeVar("T")


def settings_for(database_url: str | None, **flags: str | None) -> Settings:
    """Settings from the environment, with the flags given on the command line over them."""
    try:
        return Settings.from_env(database_url=database_url, **flags)
    except ValueError as err:
        raise fail(str(err)) from None


@contextmanager
def container_for(
    database_url: str | None, settings: Settings | None = None
) -> Iterator[Container]:
    c = bootstrap(settings or settings_for(database_url))
    try:
        yield c
    finally:
        c.close()


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def run(fn: Callable[[], T]) -> T:
    """Run ``fn``, turning casekeeper errors into a message and exit status 1."""
    try:
        return fn()
    except CasekeeperError as err:
        raise fail(err.message) from None


def print_json(obj: object) -> None:
    """One JSON document on standard output, for scripts (rich would wrap and colour it)."""
    print(json.dumps(obj))


def operator(c: Container, space: str = DEFAULT_SPACE) -> Principal:
    """The person at the terminal, who has direct database access and so every permission."""
    with c.db.writer() as uow:
        space_id = uow.spaces.ensure(space, c.cases.clock())
        uow.commit()
    user = getpass.getuser()
    return Principal(
        key_id=f"cli:{user}",
        key_name=f"casekeeper CLI ({user})",
        space_id=space_id,
        space_name=space,
        permissions=frozenset(Permission),
    )


def is_tty() -> bool:
    return sys.stdout.isatty()
