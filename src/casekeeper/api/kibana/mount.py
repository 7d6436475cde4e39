"""The Kibana dialect as the HTTP app mounts it: every route in the default space
(``/api/cases…``) and in a named one (``/s/{space_id}/api/cases…``), Kibana's error body for
anything under those prefixes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from starlette.routing import BaseRoute

from casekeeper.api.kibana import cases, comments
from casekeeper.api.kibana.errors import kibana_error
from casekeeper.api.kibana.http import Handler, endpoint
from casekeeper.api.routes import by_path
from casekeeper.bootstrap import Container

BASE: Final = "/api/cases"
CASE: Final = BASE + "/{case_id}"
# (method, path under /api/cases, handler): literal paths before the {case_id} ones.
ROUTES: Final[tuple[tuple[str, str, Handler], ...]] = (
    ("POST", BASE, cases.create),
    ("PATCH", BASE, cases.update),
    ("DELETE", BASE, cases.delete),
    ("GET", BASE + "/_find", cases.find),
    ("GET", BASE + "/tags", cases.tags),
    ("GET", BASE + "/reporters", cases.reporters),
    ("GET", BASE + "/alerts/{alert_id}", cases.with_alert),
    ("GET", CASE, cases.get),
    ("GET", CASE + "/user_actions", comments.user_actions),
    ("GET", CASE + "/user_actions/_find", comments.find_user_actions),
    ("POST", CASE + "/comments", comments.add),
    ("PATCH", CASE + "/comments", comments.update),
    ("DELETE", CASE + "/comments", comments.delete_all),
    ("GET", CASE + "/comments/_find", comments.find),
    ("GET", CASE + "/comments/{comment_id}", comments.get_one),
    ("DELETE", CASE + "/comments/{comment_id}", comments.delete_one),
)


def routes(c: Container) -> Sequence[BaseRoute]:
    out: list[BaseRoute] = []
    for prefix in ("", "/s/{space_id}"):
        table = ((m, prefix + path, endpoint(c, h)) for m, path, h in ROUTES)
        out += by_path(table, "kibana")
    return out


PREFIXES: Final = (BASE, "/s")
NAME: Final = "kibana"
error_shape = kibana_error
