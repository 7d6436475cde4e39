"""Fixtures of the fault tests: ``serve`` (a real ``casekeeper serve``, tests/server), a fresh
database of the test's own, and a small tmpfs to fill."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from casekeeper.store import migrate
from casekeeper.store.engine import is_sqlite
from tests.conftest import _private_pg_url, drop_pg_database
from tests.server.conftest import serve

__all__ = ["serve"]  # the fixture, for the tests here


def pg_base() -> str | None:
    """The PostgreSQL server the suite may use (CASEKEEPER_TEST_DATABASE_URL), or None."""
    base = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").strip()
    return None if not base or is_sqlite(base) else base


def need_fault(reason: str) -> None:
    """Skip for a fault this machine cannot make, unless CASEKEEPER_REQUIRE_FAULTS=1 (CI as
    root): then that is a failure."""
    if os.environ.get("CASEKEEPER_REQUIRE_FAULTS") == "1":
        pytest.fail(f"{reason} (CASEKEEPER_REQUIRE_FAULTS=1)")
    pytest.skip(reason)


def private_pg(base: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database beside ``base``'s, dropped afterwards."""
    name = f"casekeeper_faults_{uuid.uuid4().hex[:10]}"
    url = _private_pg_url(base, name)
    migrate.upgrade(url)
    yield url
    drop_pg_database(url)


@pytest.fixture
def fault_db(tmp_path: Path) -> Iterator[str]:
    """The database a fault test's servers share: a private PostgreSQL database when
    CASEKEEPER_TEST_DATABASE_URL names PostgreSQL, else a SQLite file (as tests/cli)."""
    base = pg_base()
    if base is None:
        yield f"sqlite:///{tmp_path / 'faults.db'}"
        return
    yield from private_pg(base)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs of the test's own (root only), unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        need_fault(f"cannot mount a tmpfs: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
