"""The golden scenario's world: a database of its own, a container with a step clock, the real
servers on loopback, API keys and the seeded cases.

What the golden test takes from casekeeper's internals is imported here and in ``world.py``
(the rest uses only the generated protobuf modules and Coralogix's OpenAPI documents), so a
refactor that moves modules adjusts these imports and nothing else: the scenario, the recording
and the golden files stay as they are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from casekeeper.store import migrate
from casekeeper.store.engine import is_sqlite
from tests.conftest import _private_pg_url
from tests.golden.world import World, open_world


@pytest.fixture
def golden_database(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for one run of the scenario: a SQLite file, or a private
    PostgreSQL database beside ``CASEKEEPER_TEST_DATABASE_URL`` (dropped afterwards). A fresh
    database makes the readable numbers, the fixed case ids and the spaces start from nothing
    on every run."""
    base = os.environ.get("CASEKEEPER_TEST_DATABASE_URL", "").strip()
    if not base or is_sqlite(base):
        url = f"sqlite:///{tmp_path / 'golden.db'}"
        migrate.upgrade(url)
        yield url
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    test = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())
    name = f"casekeeper_golden_{worker}_{os.getpid()}_{test}"[:63]
    url = _private_pg_url(base, name)
    migrate.upgrade(url)
    yield url
    admin = sa.create_engine(
        sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def world(golden_database: str) -> Iterator[World]:
    with open_world(golden_database) as w:
        yield w
