"""The Tracecat dialect as the HTTP app mounts it: ``/cases…`` (every route takes
``?workspace_id=``) and the session login under ``/auth``, with FastAPI's error bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from starlette.routing import BaseRoute, Route

from casekeeper.api.routes import by_path
from casekeeper.api.tracecat import activity, auth, cases
from casekeeper.api.tracecat.errors import tracecat_error
from casekeeper.api.tracecat.http import Handler, endpoint
from casekeeper.bootstrap import Container

BASE: Final = "/cases"
CASE: Final = BASE + "/{case_id:uuid}"
# (method, path, handler): literal paths before the {case_id} ones.
ROUTES: Final[tuple[tuple[str, str, Handler], ...]] = (
    ("GET", BASE, cases.list_cases),
    ("POST", BASE, cases.create),
    ("GET", BASE + "/search", cases.search),
    ("GET", BASE + "/search/aggregate", cases.aggregate),
    ("POST", BASE + "/batch-update", cases.batch_update),
    ("POST", BASE + "/batch-delete", cases.batch_delete),
    ("GET", CASE, cases.get),
    ("PATCH", CASE, cases.update),
    ("DELETE", CASE, cases.delete),
    ("GET", CASE + "/comments", activity.list_comments),
    ("POST", CASE + "/comments", activity.add_comment),
    ("PATCH", CASE + "/comments/{comment_id:uuid}", activity.update_comment),
    ("DELETE", CASE + "/comments/{comment_id:uuid}", activity.delete_comment),
    ("GET", CASE + "/events", activity.events),
    ("GET", CASE + "/tags", activity.list_tags),
    ("POST", CASE + "/tags", activity.add_tag),
    ("DELETE", CASE + "/tags/{tag_id}", activity.remove_tag),
)


def routes(c: Container) -> Sequence[BaseRoute]:
    out: list[BaseRoute] = [
        Route("/auth/login", auth.login(c), methods=["POST"], name="tracecat login"),
        Route("/auth/logout", auth.logout(c), methods=["POST"], name="tracecat logout"),
    ]
    out += by_path(((m, path, endpoint(c, h)) for m, path, h in ROUTES), "tracecat")
    return out


PREFIXES: Final = (BASE, "/auth")
NAME: Final = "tracecat"
error_shape = tracecat_error
