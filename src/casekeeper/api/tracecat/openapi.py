"""The Tracecat routes in casekeeper's ``/openapi.json``: paths, parameters, bodies and answers,
as docs/TRACECAT.md describes them. Schema names start with ``Tracecat``."""

from __future__ import annotations

import copy
from typing import Any, Final

from casekeeper.api.tracecat import vocabulary as vocab
from casekeeper.api.tracecat.cases import MAX_BATCH, MAX_DESCRIPTION, MAX_SUMMARY
from casekeeper.api.tracecat.mount import ROUTES
from casekeeper.api.tracecat.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_SEARCH, ORDER
from casekeeper.service.timeline import MAX_COMMENT

TAG: Final = "Tracecat cases"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


STRING: Final = {"type": "string"}
NULLABLE: Final = {"type": "string", "nullable": True}
UUID: Final = {"type": "string", "format": "uuid"}
TIME: Final = {"type": "string", "format": "date-time"}
STATUS: Final = {"type": "string", "enum": list(vocab.STATUSES)}
PRIORITY: Final = {"type": "string", "enum": list(vocab.PRIORITIES)}
SEVERITY: Final = {"type": "string", "enum": list(vocab.SEVERITIES)}
WRITABLE_STATUS: Final = {"type": "string", "enum": ["new", "in_progress", "on_hold",
                                                     "resolved", "closed"]}  # fmt: skip
WRITABLE_PRIORITY: Final = {"type": "string", "enum": [p for p in vocab.PRIORITIES
                                                       if p != "other"]}  # fmt: skip
TAG_NAMES: Final = {
    "type": "array", "maxItems": 200,
    "items": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": r"^\S(.*\S)?$"},
}  # fmt: skip
MINIMAL_PROPS: Final = {
    "id": UUID, "short_id": STRING, "created_at": TIME, "updated_at": TIME, "summary": STRING,
    "status": STATUS, "priority": PRIORITY, "severity": SEVERITY,
    "assignee": {"allOf": [_ref("TracecatUser")], "nullable": True},
    "tags": _array(_ref("TracecatTag")),
}  # fmt: skip
SEED: Final = ["id", "short_id", "created_at", "updated_at", "summary", "status", "priority",
               "severity"]  # fmt: skip
UPDATE_PROPS: Final = {
    "summary": {"type": "string", "minLength": 1, "maxLength": MAX_SUMMARY, "pattern": r"\S"},
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
    "status": WRITABLE_STATUS, "priority": WRITABLE_PRIORITY, "severity": SEVERITY,
    "assignee_id": {**UUID, "nullable": True}, "tags": TAG_NAMES,
    "payload": {"type": "object", "nullable": True},
    "fields": {"type": "object", "nullable": True},
}  # fmt: skip

SCHEMAS: Final[dict[str, Any]] = {
    "TracecatError": {
        "type": "object", "required": ["detail"],
        "properties": {"detail": {"oneOf": [STRING, _array({"type": "object"})]}},
    },
    "TracecatUser": {
        "type": "object", "required": ["id"],
        "properties": {"id": STRING, "email": NULLABLE, "username": STRING,
                       "first_name": NULLABLE, "last_name": NULLABLE, "role": NULLABLE,
                       "is_active": {"type": "boolean"}},
    },
    "TracecatTag": {
        "type": "object", "required": ["id", "name", "ref"],
        "properties": {"id": UUID, "name": STRING, "ref": STRING, "color": NULLABLE},
    },
    "TracecatCaseMinimal": {"type": "object", "required": SEED, "properties": MINIMAL_PROPS},
    "TracecatCase": {
        "type": "object", "required": [*SEED, "description"],
        "properties": {**MINIMAL_PROPS, "description": STRING, "fields": _array({}),
                       "payload": {"type": "object", "nullable": True}},
    },
    "TracecatCaseCreate": {
        "type": "object", "required": ["summary", "description"], "properties": UPDATE_PROPS,
        "additionalProperties": False,
    },
    "TracecatCaseUpdate": {
        "type": "object", "properties": UPDATE_PROPS, "additionalProperties": False,
    },
    "TracecatPage": {
        "type": "object",
        "required": ["items", "next_cursor", "prev_cursor", "has_more", "has_previous"],
        "properties": {"items": _array(_ref("TracecatCaseMinimal")), "next_cursor": NULLABLE,
                       "prev_cursor": NULLABLE, "has_more": {"type": "boolean"},
                       "has_previous": {"type": "boolean"},
                       "total_estimate": {"type": "integer", "nullable": True}},
    },
    "TracecatAggregate": {
        "type": "object", "required": ["total", "status_groups"],
        "properties": {"total": {"type": "integer"}, "status_groups": {
            "type": "object", "required": list(vocab.STATUSES),
            "properties": {s: {"type": "integer"} for s in vocab.STATUSES}}},
    },
    "TracecatBatchUpdate": {
        "type": "object", "required": ["case_ids", "update"], "additionalProperties": False,
        "properties": {
            "case_ids": {**_array(UUID), "minItems": 1, "maxItems": MAX_BATCH},
            "update": {**_ref("TracecatCaseUpdate")},
        },
    },
    "TracecatBatchDelete": {
        "type": "object", "required": ["case_ids"], "additionalProperties": False,
        "properties": {"case_ids": {**_array(UUID), "minItems": 1, "maxItems": MAX_BATCH}},
    },
    "TracecatBatchResult": {
        "type": "object", "required": ["results", "succeeded", "failed"],
        "properties": {
            "results": _array({"type": "object", "required": ["case_id", "success", "error"],
                               "properties": {"case_id": UUID, "success": {"type": "boolean"},
                                              "error": NULLABLE}}),
            "succeeded": {"type": "integer"}, "failed": {"type": "integer"},
        },
    },
    "TracecatComment": {
        "type": "object", "required": ["id", "created_at", "updated_at", "content"],
        "properties": {"id": UUID, "created_at": TIME, "updated_at": TIME, "content": STRING,
                       "parent_id": NULLABLE, "last_edited_at": {**TIME, "nullable": True},
                       "user": {"allOf": [_ref("TracecatUser")], "nullable": True}},
    },
    "TracecatCommentBody": {
        "type": "object", "required": ["content"], "additionalProperties": False,
        "properties": {"content": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT,
                                   "pattern": r"\S"}},
    },
    "TracecatEvents": {
        "type": "object", "required": ["events", "users"],
        "properties": {
            "events": _array({"type": "object", "required": ["id", "type", "created_at"],
                              "properties": {"id": STRING, "type": STRING,
                                             "created_at": TIME, "user_id": NULLABLE}}),
            "users": _array(_ref("TracecatUser")),
        },
    },
    "TracecatTagBody": {
        "type": "object", "required": ["tag_id"],
        "properties": {"tag_id": {"type": "string", "minLength": 1, "maxLength": 256,
                                  "pattern": r"^\S(.*\S)?$"}},
    },
}  # fmt: skip


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


PAGE: Final = [
    _q("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                 "default": DEFAULT_LIMIT}),
    _q("cursor", {"type": "string", "maxLength": 4096}, "next_cursor or prev_cursor"),
    _q("reverse", {"type": "boolean"}, "read the page before the cursor (or the last page)"),
    _q("order_by", {"type": "string", "enum": list(ORDER)}),
    _q("sort", {"type": "string", "enum": ["asc", "desc"]}),
]  # fmt: skip
SEARCH: Final = [
    _q("search_term", {"type": "string", "maxLength": MAX_SEARCH},
       "summary, description or a readable id"),
    _q("short_id", STRING), _q("status", _array(STATUS)), _q("priority", _array(PRIORITY)),
    _q("severity", _array(SEVERITY)), _q("tags", _array(STRING), "ids, refs or names; AND"),
    _q("assignee_id", _array(STRING), "user ids, or unassigned"),
    _q("start_time", TIME), _q("end_time", TIME), _q("updated_after", TIME),
    _q("updated_before", TIME),
]  # fmt: skip
CASES: Final = "/cases"
CASE: Final = "/cases/{case_id}"
# (method, path) -> (summary, query, body schema, 2xx status, 2xx schema)
OPERATIONS: Final[dict[tuple[str, str], tuple[str, list[Any], str | None, int, Any]]] = {
    ("GET", CASES): ("List cases (seed 004: the cursors are in X-Next-Cursor/X-Prev-Cursor)",
                     PAGE, None, 200, _array(_ref("TracecatCaseMinimal"))),
    ("POST", CASES): ("Create a case", [], "TracecatCaseCreate", 201, _ref("TracecatCase")),
    ("GET", CASES + "/search"): ("Search cases", [*PAGE, *SEARCH], None, 200,
                                 _ref("TracecatPage")),
    ("GET", CASES + "/search/aggregate"): ("Count cases by status", SEARCH, None, 200,
                                           _ref("TracecatAggregate")),
    ("POST", CASES + "/batch-update"): ("Update many cases", [], "TracecatBatchUpdate", 200,
                                        _ref("TracecatBatchResult")),
    ("POST", CASES + "/batch-delete"): ("Delete many cases", [], "TracecatBatchDelete", 200,
                                        _ref("TracecatBatchResult")),
    ("GET", CASE): ("Get a case", [], None, 200, _ref("TracecatCase")),
    ("PATCH", CASE): ("Update a case", [], "TracecatCaseUpdate", 204, None),
    ("DELETE", CASE): ("Delete a case", [], None, 204, None),
    ("GET", CASE + "/comments"): ("The case's comments", [], None, 200,
                                  _array(_ref("TracecatComment"))),
    ("POST", CASE + "/comments"): ("Comment", [], "TracecatCommentBody", 201,
                                   _ref("TracecatComment")),
    ("PATCH", CASE + "/comments/{comment_id}"): ("Edit a comment", [], "TracecatCommentBody",
                                                 204, None),
    ("DELETE", CASE + "/comments/{comment_id}"): ("Delete a comment", [], None, 204, None),
    ("GET", CASE + "/events"): ("The case's events and the users they name", [], None, 200,
                                _ref("TracecatEvents")),
    ("GET", CASE + "/tags"): ("The case's tags", [], None, 200, _array(_ref("TracecatTag"))),
    ("POST", CASE + "/tags"): ("Tag the case", [], "TracecatTagBody", 201,
                               _ref("TracecatTag")),
    ("DELETE", CASE + "/tags/{tag_id}"): ("Untag the case", [], None, 204, None),
}  # fmt: skip

ERRORS: Final = {
    str(code): {"description": why, "content": {"application/json": {
        "schema": _ref("TracecatError")}}}
    for code, why in ((401, "Not logged in, or a bad key"),
                      (403, "Missing permission, or a cross-site write with the cookie"),
                      (404, "No such case, comment or workspace"),
                      (409, "The case kept changing"), (422, "Invalid input"))
}  # fmt: skip


def _openapi_path(path: str) -> str:
    return path.replace(":uuid}", "}")


def _operation(method: str, path: str) -> dict[str, Any]:
    summary, query, body, status, answer = OPERATIONS[(method, path)]
    params = [
        {"name": "workspace_id", "in": "query", "required": True, "schema": UUID,
         "description": "the workspace (space) UUID: casekeeper spaces list"},
        *query,
    ]  # fmt: skip
    for name, schema in (("case_id", UUID), ("comment_id", UUID), ("tag_id", STRING)):
        if "{" + name + "}" in path:
            params.append({"name": name, "in": "path", "required": True, "schema": schema})
    op: dict[str, Any] = {
        "tags": [TAG], "summary": summary, "parameters": params,
        "security": [{"fastapiusersauth": []}, {"bearer": []}],
        "operationId": f"tracecat_{method}_{path}",
        "responses": {str(status): {"description": "Done"}, **ERRORS},
    }  # fmt: skip
    if answer is not None:
        op["responses"][str(status)]["content"] = {"application/json": {"schema": answer}}
    if body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": _ref(body)}}}  # fmt: skip
    return op


LOGIN: Final = {
    "post": {
        "tags": [TAG], "summary": "Log in: sets the fastapiusersauth session cookie",
        "operationId": "tracecat_login",
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "required": ["username", "password"],
                       "properties": {"username": STRING, "password": STRING}}}}},
        "responses": {"204": {"description": "Logged in (Set-Cookie)"},
                      "400": {"description": "LOGIN_BAD_CREDENTIALS"},
                      "429": {"description": "Too many failed logins"}},
    },
}  # fmt: skip
LOGOUT: Final = {
    "post": {
        "tags": [TAG], "summary": "Log out: ends the session", "operationId": "tracecat_logout",
        "security": [{"fastapiusersauth": []}],
        "responses": {"204": {"description": "Logged out"}, **ERRORS},
    },
}  # fmt: skip


def tracecat_paths() -> dict[str, Any]:
    out: dict[str, Any] = {"/auth/login": LOGIN, "/auth/logout": LOGOUT}
    for method, path, _ in ROUTES:
        plain = _openapi_path(path)
        out.setdefault(plain, {})[method.lower()] = _operation(method, plain)
    return out


def add_tracecat(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the Tracecat paths and schemas added (a copy)."""
    out = copy.deepcopy(doc)
    out.setdefault("paths", {}).update(tracecat_paths())
    schemas = out.setdefault("components", {}).setdefault("schemas", {})
    clash = sorted(set(schemas) & set(SCHEMAS))
    if clash:
        raise ValueError(f"schema names already taken: {clash}")
    schemas.update(copy.deepcopy(SCHEMAS))
    security = out["components"].setdefault("securitySchemes", {})
    security.setdefault("fastapiusersauth",
                        {"type": "apiKey", "in": "cookie", "name": "fastapiusersauth"})  # fmt: skip
    security.setdefault("bearer", {"type": "http", "scheme": "bearer"})
    return out
