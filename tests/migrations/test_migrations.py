"""Migrations: upgrade from empty, no drift against the models, and a down/up round trip."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from casekeeper.store import migrate
from casekeeper.store.engine import is_sqlite, normalize_url
from casekeeper.store.schema import metadata


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    base = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").strip()
    if not base or is_sqlite(base):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"casekeeper_mig_{uuid.uuid4().hex[:10]}"
    admin_url = sa.make_url(normalize_url(base)).set(database="postgres")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(normalize_url(url))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_every_table(empty_database: str) -> None:
    assert migrate.pending(empty_database)
    migrate.upgrade(empty_database)
    assert not migrate.pending(empty_database)
    assert set(metadata.tables) <= _tables(empty_database)


def test_alembic_check_finds_no_drift_after_upgrade(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.check(empty_database)  # raises if models and migrations disagree


def test_downgrade_to_base_and_upgrade_again(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    assert set(metadata.tables) <= _tables(empty_database)


def test_external_id_uniqueness_indexes_only_synced_events(empty_database: str) -> None:
    """The (case_id, external_id) unique index is partial: events without an external id (all
    but synced messages) add no entry to it."""
    migrate.upgrade(empty_database)
    engine = sa.create_engine(normalize_url(empty_database))
    try:
        with engine.connect() as conn:
            if is_sqlite(empty_database):
                sql = conn.exec_driver_sql(
                    "SELECT sql FROM sqlite_master WHERE name = 'uq_case_event_case_id_external_id'"
                ).scalar_one()
            else:
                sql = conn.exec_driver_sql(
                    "SELECT indexdef FROM pg_indexes "
                    "WHERE indexname = 'uq_case_event_case_id_external_id'"
                ).scalar_one()
    finally:
        engine.dispose()
    assert "UNIQUE" in sql.upper()
    assert "external_id IS NOT NULL" in sql
