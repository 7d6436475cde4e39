"""The ``/api/v1/`` paths of /openapi.json, with schemas derived from the protobuf messages the
routes carry (so the document cannot drift from what the routes parse and answer)."""

from __future__ import annotations

import copy
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from casekeeper.api.notify.ops import OPERATIONS
from casekeeper.api.notify.rest import REST_ROUTES, RestRoute
from casekeeper.proto.casekeeper.v1 import notifications_pb2 as pb

TAG: Final = "Notifications (casekeeper)"
PREFIX: Final = "casekeeper.v1."
ERROR: Final = "casekeeper.Error"
FD = FieldDescriptor
_SCALARS: Final = {
    FD.TYPE_STRING: {"type": "string"}, FD.TYPE_BOOL: {"type": "boolean"},
    FD.TYPE_INT32: {"type": "integer", "format": "int32"},
}  # fmt: skip
_STATUSES: Final = {
    "400": "Invalid input (the message names the field)",
    "401": "Missing, invalid or revoked API key",
    "403": "The API key lacks the permission (named in the message)",
    "404": "No such connector, route, case or delivery in the key's space",
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _field(f: FieldDescriptor, schemas: dict[str, Any]) -> dict[str, Any]:
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        value = f.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _field(value, schemas)}
    if f.message_type is not None:
        if f.message_type.full_name == "google.protobuf.Timestamp":
            one: dict[str, Any] = {"type": "string", "format": "date-time"}
        else:
            one = _ref(_message(f.message_type, schemas))
    else:
        one = dict(_SCALARS[f.type])
    if f.is_repeated:
        return {"type": "array", "items": one}
    return one


def _message(d: Descriptor, schemas: dict[str, Any]) -> str:
    name = PREFIX + d.name
    if name not in schemas:
        schemas[name] = {}  # reserved first: messages may refer to each other
        schemas[name] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {f.json_name: _field(f, schemas) for f in d.fields},
        }
    return name


def _operation(r: RestRoute, schemas: dict[str, Any]) -> dict[str, Any]:
    request_cls, _ = OPERATIONS[r.rpc]
    service = pb.DESCRIPTOR.services_by_name["NotificationService"]
    method = service.methods_by_name[r.rpc]
    out_name = _message(method.output_type, schemas)
    op: dict[str, Any] = {
        "operationId": f"NotificationService_{r.rpc}",
        "tags": [TAG],
        "security": [{"bearer": []}],
        "summary": r.rpc,
        "responses": {
            "200": {"description": "OK",
                    "content": {"application/json": {"schema": _ref(out_name)}}},
            **{code: {"description": text,
                      "content": {"application/json": {"schema": _ref(ERROR)}}}
               for code, text in _STATUSES.items()},
        },
    }  # fmt: skip
    if r.path_field is not None:
        op["parameters"] = [{"name": "id", "in": "path", "required": True,
                             "schema": {"type": "string"}}]  # fmt: skip
    if r.body is not None:
        desc = request_cls.DESCRIPTOR
        body = desc if r.body == "" else desc.fields_by_name[r.body].message_type
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(_message(body, schemas))}},
        }
    return op


def notify_paths() -> tuple[dict[str, Any], dict[str, Any]]:
    schemas: dict[str, Any] = {
        ERROR: {
            "type": "object",
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    }
    paths: dict[str, Any] = {}
    for r in REST_ROUTES:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, schemas)
    return paths, schemas


def add_notify(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with the /api/v1 paths and their schemas added (a copy)."""
    out = copy.deepcopy(doc)
    paths, schemas = notify_paths()
    out.setdefault("paths", {}).update(paths)
    taken = out.setdefault("components", {}).setdefault("schemas", {})
    clash = sorted(set(taken) & set(schemas))
    if clash:
        raise ValueError(f"schema names already taken: {clash}")
    taken.update(schemas)
    return out
