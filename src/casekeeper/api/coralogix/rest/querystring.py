"""A GET (or DELETE) request's query string → the JSON of its protobuf request message, the way
grpc-gateway reads query parameters, with what it cannot express made possible (API_DIGEST §5.6):

- dotted paths into messages, in snake_case or camelCase (``filter.status``,
  ``pagination.pageSize``, ``order_by.direction``), a key repeated for each item of a list;
- a JSON-encoded value for a message, a map or a list of messages (``filter={"status": [..]}``,
  ``group_bys=[{"incidentField": "INCIDENTS_FIELDS_SEVERITY"}]``): query keys cannot hold maps;
- an object parameter in OpenAPI's ``form`` style, exploded (``?status=X&pageSize=10``): a
  key that is no field of the request names a field of exactly one of its message fields,
  which is how clients generated from Coralogix's spec send ``filter`` and ``pagination``;
- id lists (``ids``, ``incident_ids``) also as comma-separated values, as the cases routes take.

The result is then read like any JSON body (``parse.normalize``), so every lenient form and
every check applies to both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import orjson
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from casekeeper.domain.errors import invalid, quote

_ID_LISTS = frozenset({"ids", "incident_ids"})
MAX_QUERY_IDS = 1000  # ids of 36 characters fit a request line of 64 KiB
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_MESSAGE = FieldDescriptor.TYPE_MESSAGE
_INTEGERS = frozenset(
    {
        FieldDescriptor.CPPTYPE_INT32,
        FieldDescriptor.CPPTYPE_INT64,
        FieldDescriptor.CPPTYPE_UINT32,
        FieldDescriptor.CPPTYPE_UINT64,
    }
)


def _field(desc: Descriptor, name: str) -> FieldDescriptor | None:
    found: FieldDescriptor | None = desc.fields_by_name.get(name)
    if found is None:
        found = next((f for f in desc.fields if f.json_name == name), None)
    return found


def _is_map(field: FieldDescriptor) -> bool:
    mt = field.message_type
    return bool(mt is not None and mt.GetOptions().map_entry)


def _wrapped(field: FieldDescriptor) -> FieldDescriptor | None:
    """The inner ``value`` field of a ``google.protobuf.*Value`` wrapper field, else None."""
    mt = field.message_type
    if mt is not None and mt.full_name.startswith("google.protobuf.") and mt.name.endswith("Value"):
        inner: FieldDescriptor = mt.fields_by_name["value"]
        return inner
    return None


def _is_json(field: FieldDescriptor) -> bool:
    """A field a query value can only give as JSON: a map, a list of messages or a message
    (wrappers, timestamps and durations have scalar forms)."""
    if field.type != _MESSAGE:
        return False
    if _is_map(field) or (field.is_repeated and _wrapped(field) is None):
        return True
    mt: Any = field.message_type
    return not str(mt.full_name).startswith("google.protobuf.")


def _scalar(field: FieldDescriptor, text: str, path: str) -> Any:
    """``text`` as the JSON value of scalar ``field`` (or of the wrapper it is)."""
    leaf = _wrapped(field) or field
    if leaf.type == FieldDescriptor.TYPE_BOOL:
        lowered = text.strip().lower()
        if lowered in _TRUE or lowered in _FALSE:
            return lowered in _TRUE
        raise invalid(f"{quote(text)} is not true or false", field=path)
    digits = text.strip().lstrip("-").isdigit()
    if digits and (leaf.enum_type is not None or leaf.cpp_type in _INTEGERS):
        return int(text)
    return text


def _json(text: str, path: str) -> Any:
    """A JSON query value; JSON text encoded once more as a JSON string is read too (some
    clients serialize a JSON parameter's value twice)."""
    try:
        value = orjson.loads(text)
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            value = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise invalid("give it as JSON (a query value cannot hold an object)", field=path) from None
    return value


def _resolve(desc: Descriptor, key: str) -> list[tuple[str, FieldDescriptor]]:
    """The fields a dotted ``key`` walks, or [] when it names none."""
    walked: list[tuple[str, FieldDescriptor]] = []
    current: Descriptor | None = desc
    for part in key.split("."):
        field = _field(current, part) if current is not None else None
        if field is None:
            return []
        walked.append((field.json_name, field))
        plain = field.type == _MESSAGE and not _is_map(field) and not field.is_repeated
        current = field.message_type if plain and _wrapped(field) is None else None
    return walked


def _exploded(desc: Descriptor, key: str) -> list[tuple[str, FieldDescriptor]]:
    """``key`` as a field of exactly one message field of ``desc`` (an exploded form object)."""
    found = []
    for outer in desc.fields:
        if outer.type == _MESSAGE and not outer.is_repeated and not _is_map(outer):
            inner = _resolve(cast(Descriptor, outer.message_type), key)
            if inner:
                found.append([(outer.json_name, outer), *inner])
    return found[0] if len(found) == 1 else []


def query_to_json(pairs: Iterable[tuple[str, str]], desc: Descriptor) -> dict[str, Any]:
    """The request JSON the query string ``pairs`` spell for message ``desc``. Keys that name
    no field are ignored, as unknown JSON fields are."""
    out: dict[str, Any] = {}
    for key, text in pairs:
        walked = _resolve(desc, key) or _exploded(desc, key)
        if not walked:
            continue
        *parents, (name, field) = walked
        target = out
        for parent, _ in parents:
            nested = target.setdefault(parent, {})
            if not isinstance(nested, dict):
                raise invalid("given both as a value and as fields", field=parent)
            target = nested
        path = ".".join(n for n, _ in walked)
        if _is_json(field):
            value = _json(text, path)
            if field.is_repeated and not _is_map(field):  # a list, or one item a key
                items = target.setdefault(name, [])
                if not isinstance(items, list):
                    raise invalid("given both as a value and as items", field=path)
                items.extend(value if isinstance(value, list) else [value])
            elif name in target:
                raise invalid("give it once", field=path)
            else:
                target[name] = value
        elif field.is_repeated:
            items = text.split(",") if field.name in _ID_LISTS else [text]
            values = target.setdefault(name, [])
            values.extend(_scalar(field, item.strip(), path) for item in items if item.strip())
            if field.name in _ID_LISTS and len(values) > MAX_QUERY_IDS:
                raise invalid(
                    f"at most {MAX_QUERY_IDS} ids in a query string (a request line is at most "
                    "64 KiB); the POST /v1/incidents:<verb> bindings take 10000",
                    field=path,
                )
        elif name in target:
            raise invalid("give one value", field=path)
        else:
            target[name] = _scalar(field, text, path)
    return out
