"""The Kibana routes in casekeeper's ``/openapi.json``: paths, parameters, bodies and answers,
as docs/KIBANA.md describes them. Schema names start with ``Kibana``."""

from __future__ import annotations

import copy
from typing import Any, Final

from casekeeper.api.kibana import vocabulary as vocab
from casekeeper.api.kibana.cases import (
    MAX_BULK,
    MAX_CATEGORY,
    MAX_DESCRIPTION,
    MAX_PER_PAGE,
    MAX_TITLE,
    SORT,
)
from casekeeper.api.kibana.comments import ACTION_TYPES
from casekeeper.api.kibana.mount import BASE, ROUTES
from casekeeper.service.timeline import MAX_COMMENT

TAG: Final = "Kibana cases"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


STRING: Final = {"type": "string"}
NULLABLE: Final = {"type": "string", "nullable": True}
TIME: Final = {"type": "string", "format": "date-time"}
STATUS: Final = {"type": "string", "enum": list(vocab.STATUSES_OF)}
SEVERITY: Final = {"type": "string", "enum": list(vocab.PRIORITY_OF)}
OWNER: Final = {"type": "string", "enum": list(vocab.OWNERS)}
TAGS: Final = {
    "type": "array", "maxItems": 200,
    "items": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": r"\S"},
}  # fmt: skip
ASSIGNEES: Final = {
    "type": "array", "maxItems": 10,
    "items": {
        "type": "object", "required": ["uid"],
        "properties": {"uid": {"type": "string", "minLength": 1, "maxLength": 300,
                               "pattern": r"^\S+$"}},
    },
}  # fmt: skip
CONNECTOR: Final = {
    "type": "object", "required": ["id", "name", "type", "fields"],
    "properties": {"id": STRING, "name": STRING, "type": {"type": "string", "enum": [".none"]},
                   "fields": {"nullable": True}},
}  # fmt: skip
SETTINGS: Final = {
    "type": "object", "required": ["syncAlerts"],
    "properties": {"syncAlerts": {"type": "boolean"}},
}  # fmt: skip
TITLE: Final = {"type": "string", "minLength": 1, "maxLength": MAX_TITLE, "pattern": r"\S"}
USER: Final = {
    "type": "object", "required": ["username", "email", "full_name"],
    "properties": {"username": NULLABLE, "email": NULLABLE, "full_name": NULLABLE,
                   "profile_uid": STRING},
}  # fmt: skip

SCHEMAS: Final[dict[str, Any]] = {
    "KibanaError": {
        "type": "object", "required": ["statusCode", "error", "message"],
        "properties": {"statusCode": {"type": "integer"}, "error": STRING, "message": STRING},
    },
    "KibanaUser": USER,
    "KibanaCase": {
        "type": "object",
        "required": ["id", "version", "owner", "title", "description", "status", "severity",
                     "tags", "assignees", "created_at", "created_by", "connector", "settings",
                     "totalComment", "totalAlerts"],
        "properties": {
            "id": STRING, "version": STRING,
            "incremental_id": {"type": "integer", "nullable": True},
            "owner": OWNER, "title": STRING, "description": STRING, "status": STATUS,
            "severity": SEVERITY, "tags": {"type": "array", "items": STRING},
            "category": NULLABLE, "assignees": ASSIGNEES,
            "created_at": TIME, "created_by": _ref("KibanaUser"),
            "updated_at": {**TIME, "nullable": True},
            "updated_by": {"nullable": True},
            "closed_at": {**TIME, "nullable": True}, "closed_by": {"nullable": True},
            "duration": {"type": "integer", "nullable": True},
            "connector": CONNECTOR, "external_service": {"nullable": True},
            "settings": SETTINGS, "customFields": {"type": "array"},
            "totalComment": {"type": "integer"}, "totalAlerts": {"type": "integer"},
        },
    },
    "KibanaCreateCase": {
        "type": "object",
        "required": ["title", "description", "owner", "tags", "settings", "connector"],
        "properties": {
            "title": TITLE,
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
            "owner": OWNER, "tags": TAGS, "settings": SETTINGS, "connector": CONNECTOR,
            "severity": SEVERITY, "assignees": ASSIGNEES,
            "category": {"type": "string", "maxLength": MAX_CATEGORY, "nullable": True},
        },
    },
    "KibanaPatchCases": {
        "type": "object", "required": ["cases"],
        "properties": {"cases": {
            "type": "array", "minItems": 1, "maxItems": MAX_BULK,
            "items": {
                "type": "object", "required": ["id", "version"], "minProperties": 3,
                "properties": {
                    "id": STRING, "version": STRING, "title": TITLE,
                    "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
                    "status": STATUS, "severity": SEVERITY, "tags": TAGS,
                    "assignees": ASSIGNEES, "settings": SETTINGS, "connector": CONNECTOR,
                },
                "additionalProperties": False,
            },
        }},
    },
    "KibanaFindCases": {
        "type": "object",
        "required": ["cases", "page", "per_page", "total", "count_open_cases",
                     "count_in_progress_cases", "count_closed_cases"],
        "properties": {
            "cases": {"type": "array", "items": _ref("KibanaCase")},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"}, "count_open_cases": {"type": "integer"},
            "count_in_progress_cases": {"type": "integer"},
            "count_closed_cases": {"type": "integer"},
        },
    },
    "KibanaComment": {
        "type": "object",
        "required": ["id", "version", "type", "comment", "owner", "created_at", "created_by"],
        "properties": {
            "id": STRING, "version": STRING, "type": {"type": "string", "enum": ["user"]},
            "comment": STRING, "owner": OWNER, "created_at": TIME,
            "created_by": _ref("KibanaUser"), "updated_at": {**TIME, "nullable": True},
            "updated_by": {"nullable": True},
        },
    },
    "KibanaAddComment": {
        "type": "object", "required": ["type", "comment"],
        "properties": {
            "type": {"type": "string", "enum": ["user"]},
            "comment": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT,
                        "pattern": r"\S"},
        },
    },
    "KibanaUpdateComment": {
        "type": "object", "required": ["id", "version", "type", "comment"],
        "properties": {
            "id": STRING, "version": STRING, "type": {"type": "string", "enum": ["user"]},
            "comment": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT,
                        "pattern": r"\S"},
        },
    },
    "KibanaUserAction": {
        "type": "object",
        "required": ["action", "type", "payload", "created_at", "created_by", "owner",
                     "comment_id"],
        "properties": {
            "action": {"type": "string", "enum": ["add", "create", "delete", "update",
                                                  "push_to_service"]},
            "type": STRING, "payload": {"type": "object"}, "created_at": TIME,
            "created_by": _ref("KibanaUser"), "owner": OWNER, "comment_id": NULLABLE,
            "action_id": STRING, "case_id": STRING, "id": STRING, "version": STRING,
        },
    },
    "KibanaFindUserActions": {
        "type": "object", "required": ["page", "perPage", "total", "userActions"],
        "properties": {
            "page": {"type": "integer"}, "perPage": {"type": "integer"},
            "total": {"type": "integer"},
            "userActions": {"type": "array", "items": _ref("KibanaUserAction")},
        },
    },
    "KibanaFindComments": {
        "type": "object", "required": ["comments", "page", "per_page", "total"],
        "properties": {
            "comments": {"type": "array", "items": _ref("KibanaComment")},
            "page": {"type": "integer"}, "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
    "KibanaAlertCase": {
        "type": "object", "required": ["id", "title", "description", "status", "createdAt",
                                       "totals"],
        "properties": {"id": STRING, "title": STRING, "description": STRING, "status": STATUS,
                       "createdAt": TIME, "totals": {"type": "object"}},
    },
}  # fmt: skip


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


PAGE: Final = [
    _q("page", {"type": "integer", "minimum": 1, "maximum": 100}),
    _q("perPage", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
    _q("sortOrder", {"type": "string", "enum": ["asc", "desc"]}),
]
FIND: Final = [
    *PAGE,
    _q("status", _array(STATUS)), _q("severity", _array(SEVERITY)), _q("tags", _array(STRING)),
    _q("assignees", _array(STRING), "user ids; none for unassigned"),
    _q("reporters", _array(STRING), "usernames"), _q("owner", _array(OWNER)),
    _q("search", {"type": "string", "maxLength": 256}),
    _q("searchFields", _array({"type": "string", "enum": ["title", "description"]})),
    _q("from", TIME), _q("to", TIME),
    _q("sortField", {"type": "string", "enum": list(SORT)}),
]  # fmt: skip

# (method, path under /api/cases) -> (summary, query, body schema, 2xx status, 2xx schema)
OPERATIONS: Final[dict[tuple[str, str], tuple[str, list[Any], str | None, int, Any]]] = {
    ("POST", BASE): ("Create a case", [], "KibanaCreateCase", 200, _ref("KibanaCase")),
    ("PATCH", BASE): ("Update cases (each with its version)", [], "KibanaPatchCases", 200,
                      _array(_ref("KibanaCase"))),
    ("DELETE", BASE): ("Delete cases", [_q("ids", _array(STRING))], None, 204, None),
    ("GET", BASE + "/_find"): ("Find cases", FIND, None, 200, _ref("KibanaFindCases")),
    ("GET", BASE + "/tags"): ("Every tag", [], None, 200, _array(STRING)),
    ("GET", BASE + "/reporters"): ("Who created cases", [], None, 200,
                                   _array(_ref("KibanaUser"))),
    ("GET", BASE + "/alerts/{alert_id}"): ("The cases of an alert", [], None, 200,
                                           _array(_ref("KibanaAlertCase"))),
    ("GET", BASE + "/{case_id}"): ("Get a case", [], None, 200, _ref("KibanaCase")),
    ("GET", BASE + "/{case_id}/user_actions"): (
        "The case activity (deprecated in Kibana 8.1; seed 002's shape)", [], None, 200,
        _array(_ref("KibanaUserAction"))),
    ("GET", BASE + "/{case_id}/user_actions/_find"): (
        "Find case activity",
        [*PAGE, _q("types", _array({"type": "string", "enum": sorted(ACTION_TYPES)}))],
        None, 200, _ref("KibanaFindUserActions")),
    ("POST", BASE + "/{case_id}/comments"): ("Add a comment", [], "KibanaAddComment", 200,
                                             _ref("KibanaCase")),
    ("PATCH", BASE + "/{case_id}/comments"): ("Update a comment", [], "KibanaUpdateComment",
                                              200, _ref("KibanaCase")),
    ("DELETE", BASE + "/{case_id}/comments"): ("Delete every comment", [], None, 204, None),
    ("GET", BASE + "/{case_id}/comments/_find"): ("Find comments", PAGE, None, 200,
                                                  _ref("KibanaFindComments")),
    ("GET", BASE + "/{case_id}/comments/{comment_id}"): ("Get a comment", [], None, 200,
                                                         _ref("KibanaComment")),
    ("DELETE", BASE + "/{case_id}/comments/{comment_id}"): ("Delete a comment", [], None, 204,
                                                            None),
}  # fmt: skip

ERRORS: Final = {
    str(code): {"description": why, "content": {"application/json": {
        "schema": _ref("KibanaError")}}}
    for code, why in ((400, "Bad input, or no kbn-xsrf header on a mutation"),
                      (401, "No or bad credentials"), (403, "Missing permission"),
                      (404, "No such case, comment or space"), (409, "A stale version"),
                      (429, "Too many failed logins"))
}  # fmt: skip


def _operation(method: str, path: str, space: bool) -> dict[str, Any]:
    summary, query, body, status, answer = OPERATIONS[(method, path)]
    params = list(query)
    for name in ("case_id", "comment_id", "alert_id"):
        if "{" + name + "}" in path:
            params.append({"name": name, "in": "path", "required": True, "schema": STRING})
    if space:
        params.append({"name": "space_id", "in": "path", "required": True,
                       "schema": {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}})  # fmt: skip
    if method != "GET":
        params.append({"name": "kbn-xsrf", "in": "header", "required": True, "schema": STRING})
    op: dict[str, Any] = {
        "tags": [TAG], "summary": summary, "parameters": params,
        # A user (HTTP Basic), or an API key as Bearer (ApiKey <key> is accepted too).
        "security": [{"basic": []}, {"bearer": []}],
        "operationId": f"kibana{'Space' if space else ''}_{method}_{path}",
        "responses": {str(status): {"description": "Done"}, **ERRORS},
    }  # fmt: skip
    if answer is not None:
        op["responses"][str(status)]["content"] = {"application/json": {"schema": answer}}
    if body is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": _ref(body)}}}  # fmt: skip
    return op


def kibana_paths() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for method, path, _ in ROUTES:
        out.setdefault(path, {})[method.lower()] = _operation(method, path, False)
        spaced = "/s/{space_id}" + path
        out.setdefault(spaced, {})[method.lower()] = _operation(method, path, True)
    return out


def add_kibana(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the Kibana paths and schemas added (a copy)."""
    out = copy.deepcopy(doc)
    out.setdefault("paths", {}).update(kibana_paths())
    schemas = out.setdefault("components", {}).setdefault("schemas", {})
    clash = sorted(set(schemas) & set(SCHEMAS))
    if clash:
        raise ValueError(f"schema names already taken: {clash}")
    schemas.update(copy.deepcopy(SCHEMAS))
    security = out["components"].setdefault("securitySchemes", {})
    security.setdefault("basic", {"type": "http", "scheme": "basic"})
    return out
