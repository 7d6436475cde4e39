"""store.driver.Prepared: statements compiled once per dialect and run on the DBAPI cursor, on
whichever database the suite runs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from casekeeper.bootstrap import Container
from casekeeper.service.auth import Principal
from casekeeper.store.driver import Prepared
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
    """psycopg prepares a statement server-side after a few runs; ``server_prepare=False``
    (list pages) keeps it from doing so. Either way the rows are the same on every run."""
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
