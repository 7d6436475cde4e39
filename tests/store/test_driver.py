"""store.driver.Prepared: statements compiled once per dialect and run on the DBAPI cursor, on
whichever database the suite runs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.service.auth import Principal
from casekeeper.store.driver import Prepared, fetch
from casekeeper.store.schema import case as c
from tests.conftest import MakeCase


def test_prepared_binds_its_own_literals_and_the_callers_parameters(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    p1 = make_case(priority=1)
    make_case(priority=3)
    # ``priority == 1`` is a literal the statement carries itself; the space is the caller's.
    stmt = (
        sa.select(c.c.id, c.c.priority)
        .where(c.c.space_id == sa.bindparam("space"), c.c.priority == 1)
        .order_by(c.c.id)
    )
    prepared = Prepared(stmt)
    with container.db.reader() as uow:
        rows = prepared.rows(uow.conn, {"space": principal.space_id})
        first = prepared.first(uow.conn, {"space": principal.space_id})
        none = prepared.first(uow.conn, {"space": -1})
    assert rows == [(p1.id, 1)]
    assert first == (p1.id, 1)
    assert none is None


@pytest.mark.parametrize("server_prepare", [True, False])
def test_prepared_gives_the_same_rows_on_every_run_whether_the_server_may_prepare_or_not(
    container: Container, principal: Principal, make_case: MakeCase, server_prepare: bool
) -> None:
    """``server_prepare`` makes the statement a server-side prepared one on PostgreSQL; either
    way the rows are the same on every run."""
    made = sorted(make_case().id for _ in range(3))
    stmt = sa.select(c.c.id).where(c.c.space_id == sa.bindparam("space")).order_by(c.c.id)
    prepared = Prepared(stmt, server_prepare=server_prepare)
    with container.db.reader() as uow:
        runs = [prepared.rows(uow.conn, {"space": principal.space_id}) for _ in range(8)]
    assert all([r[0] for r in rows] == made for rows in runs)


def test_prepared_refuses_an_expanding_in(container: Container) -> None:
    stmt = sa.select(c.c.id).where(c.c.id.in_(sa.bindparam("ids", expanding=True)))
    with container.db.reader() as uow, pytest.raises(ValueError, match="expanding IN"):
        Prepared(stmt).rows(uow.conn, {"ids": ["x"]})


def _server_prepared(conn: sa.Connection) -> list[str]:
    cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cur.execute("SELECT statement FROM pg_prepared_statements")
    found = [str(r[0]) for r in cur.fetchall()]
    cur.close()
    return found


TRICKY = ["it's 100% done", "semi; -- 'quoted' %s %%", "plain", "ünïcödé ✓"]


@pytest.mark.parametrize("title", TRICKY)
def test_inlined_values_match_the_parameterized_statement_and_the_server_plans_it_once(
    container: Container, principal: Principal, make_case: MakeCase, title: str
) -> None:
    """List pages write their filter values into the statement (``inline_except``): the rows
    are those of the parameterized statement, quotes and percent signs included, and on
    PostgreSQL the statement with the values is prepared on the server."""
    wanted = make_case(title=title, priority=2)
    make_case(title=title + " (other)", priority=2)
    make_case(title=title, priority=4)
    stmt = (
        sa.select(c.c.id)
        .where(
            c.c.space_id == sa.bindparam("space"),
            c.c.title == sa.bindparam("title"),
            c.c.priority == sa.bindparam("prio"),
        )
        .order_by(c.c.id)
    )
    inlined = Prepared(stmt, server_prepare=False, inline_except=("space",))
    plain = Prepared(stmt, server_prepare=False)
    params = {"space": principal.space_id, "title": title, "prio": 2}
    with container.db.reader() as uow:
        assert inlined.rows(uow.conn, params) == [(wanted.id,)]
        assert plain.rows(uow.conn, params) == [(wanted.id,)]
        assert inlined.rows(uow.conn, {**params, "space": -1}) == []
        if uow.conn.dialect.name == "postgresql":
            statements = _server_prepared(uow.conn)
            assert any("title" in s and "priority = 2" in s for s in statements), statements


def test_a_value_that_reads_like_a_placeholder_stays_text(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    """Inlining is one pass over the compiled statement: ``%(prio)s`` inside the value of
    ``label`` (written in first: names go in sorted order) is text, not ``prio``'s slot."""
    title = "a %(prio)s b %(space)s c"
    made = make_case(title=title, priority=2)
    stmt = sa.select(c.c.id).where(
        c.c.space_id == sa.bindparam("space"),
        c.c.title == sa.bindparam("label"),
        c.c.priority == sa.bindparam("prio"),
    )
    inlined = Prepared(stmt, server_prepare=False, inline_except=("space",))
    with container.db.reader() as uow:
        rows = inlined.rows(uow.conn, {"space": principal.space_id, "label": title, "prio": 2})
    assert rows == [(made.id,)]


def test_values_that_are_not_plain_text_run_as_parameters(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    """A value that is not an int or printable text without backslashes (their meaning in a
    literal depends on ``standard_conforming_strings``) is never written into SQL."""
    stmt = sa.select(c.c.id).where(
        c.c.space_id == sa.bindparam("space"), c.c.title == sa.bindparam("title")
    )
    for title in ("tab\there", "back\\' || current_user || '"):
        made = make_case(title=title, priority=2)
        inlined = Prepared(stmt, inline_except=("space",))
        with container.db.reader() as uow:
            rows = inlined.rows(uow.conn, {"space": principal.space_id, "title": title})
        assert rows == [(made.id,)]
        assert inlined.literal == {}


def _setting(conn: sa.Connection, name: str) -> str:
    return str(
        conn.exec_driver_sql(
            "SELECT setting FROM pg_settings WHERE name = %(n)s", {"n": name}
        ).scalar_one()
    )


def test_postgresql_sessions_prepare_only_what_the_store_asks_for(container: Container) -> None:
    """psycopg must not prepare statements on its own, and every other statement is planned
    for its values (a parameterized list or facet query must never get one plan for all
    filter values); no parallel workers."""
    if container.db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL session settings")
    with container.db.reader() as uow:
        probe = sa.select(c.c.id.label("never_prepared")).where(c.c.priority == sa.bindparam("p"))
        for _ in range(10):
            uow.conn.execute(probe, {"p": 1})
        assert not any("never_prepared" in s for s in _server_prepared(uow.conn))
        assert _setting(uow.conn, "plan_cache_mode") == "auto"
        assert _setting(uow.conn, "max_parallel_workers_per_gather") == "0"


def test_a_generic_plan_is_asked_for_one_statement_only(
    container: Container, principal: Principal, make_case: MakeCase
) -> None:
    """``generic=True`` switches the session's plan cache mode for that statement and back,
    also when the statement fails."""
    made = make_case(priority=2)
    stmt = sa.select(c.c.id).where(
        c.c.space_id == sa.bindparam("space"), c.c.priority == sa.bindparam("prio")
    )
    prepared = Prepared(stmt, server_prepare=False, inline_except=("space",))
    with container.db.reader() as uow:
        params = {"space": principal.space_id, "prio": 2}
        assert prepared.rows(uow.conn, params, generic=True) == [(made.id,)]
        if uow.conn.dialect.name != "postgresql":
            return
        assert _setting(uow.conn, "plan_cache_mode") == "auto"
        with pytest.raises(Exception, match="division by zero"):
            fetch(uow.conn, "SELECT 1 / %(z)s", {"z": 0}, generic=True)
        assert _setting(uow.conn, "plan_cache_mode") == "auto"
