"""The indexed router picks, for any path, the route Starlette's full scan would: for every
route of the real app, a concrete path made from it (and variants with a wrong segment, a
trailing slash and other methods) matches the same route, or the same 405, either way."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import BaseRoute, Match

from casekeeper.api.http.app import create_app
from casekeeper.api.http.routing import IndexedRouter, literal_prefix
from casekeeper.bootstrap import bootstrap
from casekeeper.settings import Settings

PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexedRouter]:
    db = tmp_path_factory.mktemp("routing") / "r.db"
    container = bootstrap(Settings(database_url=f"sqlite:///{db}"))
    app: Any = create_app(container).app
    assert isinstance(app.router, IndexedRouter)
    yield app.router
    container.close()


def concrete(path: str) -> str:
    def value(m: re.Match[str]) -> str:
        return {"uuid": str(uuid.uuid4()), "path": "a/b.css", "int": "7"}.get(
            m.group(2) or "", "x1"
        )

    return PARAM.sub(value, path)


def first(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[BaseRoute | None, Match]:
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route, match
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial, Match.PARTIAL if partial else Match.NONE


def test_every_path_finds_the_route_a_full_scan_finds(router: IndexedRouter) -> None:
    paths = {concrete(str(getattr(r, "path", ""))) for r in router.routes}
    paths |= {p + "/" for p in list(paths)} | {p + "/nope" for p in list(paths)}
    paths |= {"/", "/nope", "/cases", "/cases/cases", "/s", "/mgmt/openapi/x"}
    for path in sorted(paths):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            assert first(router.candidates(path), scope) == first(router.routes, scope), (
                method, path,
            )  # fmt: skip


def test_literal_prefixes() -> None:
    assert literal_prefix("/cases/{case_id:uuid}/tags") == ("cases",)
    assert literal_prefix("/cases/cases/v1/{id}") == ("cases", "cases")
    assert literal_prefix("/s/{space_id}/api/cases") == ("s",)
    assert literal_prefix("/{anything}") == ()
    assert literal_prefix("/healthz") == ("healthz",)
