"""Shared fixtures.

The database under test comes from ``CASEKEEPER_TEST_DATABASE_URL`` (a PostgreSQL URL makes the
suite create and migrate a private database beside it); the default is a SQLite file in a temp
folder. Tests isolate by tenancy: every test works in a fresh space of its own.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.model import Case, KeyValue
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import OPERATOR, Principal
from casekeeper.service.permissions import Permission
from casekeeper.settings import Settings
from casekeeper.store import migrate
from casekeeper.store.engine import is_sqlite, normalize_url
from casekeeper.store.uow import Database

ALL_PERMISSIONS = [p.value for p in Permission]


def _private_pg_url(base: str, name: str) -> str:
    url = sa.make_url(normalize_url(base))
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(*urls: str) -> None:
    """Drop the PostgreSQL databases these URLs name (made by ``_private_pg_url``)."""
    if not urls:
        return
    admin = sa.create_engine(
        sa.make_url(normalize_url(urls[0])).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        for url in urls:
            name = sa.make_url(url).database
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").strip()
    if not base or is_sqlite(base):
        path = tmp_path_factory.mktemp("db") / "casekeeper.db"
        url = f"sqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"casekeeper_test_{worker}_{os.getpid()}"
    url = _private_pg_url(base, name)
    migrate.upgrade(url)
    yield url
    drop_pg_database(url)


@pytest.fixture
def private_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of this test's own: a SQLite file, or a private PostgreSQL
    database when CASEKEEPER_TEST_DATABASE_URL names PostgreSQL (for several processes)."""
    base = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").strip()
    if not base or is_sqlite(base):
        url = f"sqlite:///{tmp_path / 'private.db'}"
        migrate.upgrade(url)
        yield url
        return
    name = f"casekeeper_private_{uuid.uuid4().hex[:10]}"
    url = _private_pg_url(base, name)
    migrate.upgrade(url)
    yield url
    drop_pg_database(url)


@pytest.fixture(scope="session")
def container(database_url: str) -> Iterator[Container]:
    c = bootstrap(
        Settings.from_env(database_url=database_url, ui_base_url="https://cases.example.test")
    )
    yield c
    c.close()


@pytest.fixture
def space() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


MakeKey = Callable[..., tuple[str, Principal]]


@pytest.fixture
def make_key(container: Container, space: str) -> MakeKey:
    """``make_key(*permissions, space=...)`` → (plaintext key, principal)."""

    def make(
        *permissions: str, space_name: str | None = None, name: str = "test key"
    ) -> tuple[str, Principal]:
        perms = list(permissions) or ALL_PERMISSIONS
        new = container.keys.create(
            granted_by=OPERATOR, name=name, permissions=perms, space=space_name or space
        )
        return new.key, container.keys.authenticate(f"Bearer {new.key}")

    return make


@pytest.fixture
def principal(make_key: MakeKey) -> Principal:
    return make_key()[1]


MakeCase = Callable[..., Case]


def case_maker(container: Container, principal: Principal, prefix: str = "Case") -> MakeCase:
    """A function creating cases through ``container`` (titles numbered from 1)."""
    counter = iter(range(1, 1_000_000))

    def make(
        *,
        title: str | None = None,
        priority: int = 3,
        category: int = 2,
        groupings: dict[str, str] | None = None,
        labels: dict[str, str] | None = None,
        pending: bool = False,
        who: Principal | None = None,
        **extra: object,
    ) -> Case:
        spec = NewCase(
            title=title or f"{prefix} {next(counter)}",
            category=CaseCategory(category),
            priority=CasePriority(priority),
            groupings=[KeyValue(k, v) for k, v in (groupings or {}).items()],
            labels=[KeyValue(k, v) for k, v in (labels or {}).items()],
            pending=pending,
            **extra,  # type: ignore[arg-type]
        )
        return container.admin.create_case(who or principal, spec)

    return make


@pytest.fixture
def make_case(container: Container, principal: Principal) -> MakeCase:
    return case_maker(container, principal)


@pytest.fixture
def side_starts_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``commit(meanwhile=...)`` holds its COMMIT (up to 5 s) until the side work has
    started, so a test sees it run alongside every time. In service the COMMIT of a bulk
    change takes milliseconds and the side thread starts within microseconds; a test's tiny
    transaction may commit first, and the work is then left to the caller."""
    pending: dict[int, threading.Event] = {}
    real_side, real_commit = Database.side, sa.Connection.commit

    def side(self: Database, fn: Callable[[], Any]) -> Any:
        started = pending[threading.get_ident()] = threading.Event()

        def run() -> Any:
            started.set()
            return fn()

        return real_side(self, run)

    def commit(self: sa.Connection) -> None:
        started = pending.pop(threading.get_ident(), None)
        if started is not None:
            started.wait(5)
        real_commit(self)

    monkeypatch.setattr(Database, "side", side)
    monkeypatch.setattr(sa.Connection, "commit", commit)


# -- quiet, redacted errors (issue 10, item 3) -------------------------------------------------


def secret(key: str) -> str:
    """The part of ``key`` that must never be shown: everything after ``ck_<prefix>_``."""
    return key.split("_", 2)[2]


def assert_quiet_logs(logs: pytest.LogCaptureFixture, *hidden: str, logged: bool = False) -> None:
    """No log line is long, carries a traceback, or shows any of ``hidden`` (and, with
    ``logged``, the refusal was logged at all)."""
    assert logs.records or not logged, "the refusal was not logged"
    for record in logs.records:
        text = record.getMessage()
        assert len(text) < 2048, f"a log line of {len(text)} characters: {text[:200]}..."
        assert record.exc_info is None, text
        for part in hidden:
            assert part not in text, text
