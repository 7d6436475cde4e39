"""Request JSON → protobuf request messages, leniently, as protojson gateways do.

Accepted beyond canonical protojson: snake_case names, enum numbers, ``null`` meaning unset,
``{"value": x}`` wrappers around scalars (the seeds' form), ``{"seconds", "nanos"}`` timestamps,
and ``[{"key", "value"}]`` arrays for maps. Unknown fields are ignored. The same protobuf
messages then feed the same conversion code as gRPC, so both dialects share every rule.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from casekeeper.api.coralogix.convert import MAX_SECONDS, MIN_SECONDS
from casekeeper.domain.errors import invalid, quote
from casekeeper.domain.timeutil import to_rfc3339

M = TypeVar("M", bound=Message)
_TIMESTAMP = "google.protobuf.Timestamp"
_DURATION = "google.protobuf.Duration"


def load_json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise invalid(f"request body is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise invalid("request body must be a JSON object")
    return data


def _field(desc: Any, key: str) -> FieldDescriptor | None:
    found: FieldDescriptor | None = desc.fields_by_name.get(key)
    if found is None:
        found = next((f for f in desc.fields if f.json_name == key), None)
    return found


def _is_map(field: FieldDescriptor) -> bool:
    mt = field.message_type
    return bool(mt is not None and mt.GetOptions().map_entry)


def _scalar(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"value"}:
        return value["value"]
    return value


def _timestamp(value: Any, path: str) -> Any:
    if isinstance(value, dict) and "seconds" in value:
        try:
            seconds = int(value.get("seconds") or 0)
            nanos = int(value.get("nanos") or 0)
        except (TypeError, ValueError, OverflowError):
            raise invalid(f"{path}: 'seconds' and 'nanos' must be integers") from None
        if not MIN_SECONDS <= seconds <= MAX_SECONDS or not 0 <= nanos < 1_000_000_000:
            raise invalid(f"{path}: out of range; use a time between years 1 and 9999")
        return to_rfc3339(seconds * 1_000_000 + nanos // 1000)
    return value


def normalize(data: Any, desc: Any, path: str = "") -> Any:
    """Rewrite the lenient forms of ``data`` (a JSON object for ``desc``) into protojson."""
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        field = _field(desc, key)
        if field is None:
            continue  # unknown fields are ignored
        name = field.json_name  # canonical spelling, whatever the caller used
        out[name] = _value(value, field, f"{path}.{name}" if path else name)
    return out


def _value(value: Any, field: FieldDescriptor, path: str) -> Any:
    if _is_map(field):
        if isinstance(value, list):  # [{"key": k, "value": v}] → {k: v}
            if not all(isinstance(item, dict) and isinstance(item.get("key"), str)
                       for item in value):  # fmt: skip
                raise invalid(f"{path}: give a JSON object, or a list of {{key, value}} objects")
            value = {item["key"]: item.get("value") for item in value}  # the last one wins
        entry: Any = field.message_type
        value_field = entry.fields_by_name["value"]
        if isinstance(value, dict):
            if any(v is None for v in value.values()):  # as in lists: null is no value
                raise invalid(f"{path}: null is not a valid map value")
            return {k: _one(v, value_field, path) for k, v in value.items()}
        return value
    if field.is_repeated and isinstance(value, list):
        if any(v is None for v in value):
            raise invalid(f"{path}: null is not a valid list item")
        return [_one(v, field, path) for v in value]
    return _one(value, field, path)


def _one(value: Any, field: FieldDescriptor, path: str) -> Any:
    mt: Any = field.message_type
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = mt.full_name
        if name == _TIMESTAMP:
            return _timestamp(_scalar(value), path)
        if name == _DURATION or name.startswith("google.protobuf."):
            return _scalar(value)
        if not isinstance(value, dict):
            raise invalid(f"{path}: must be a JSON object")
        return normalize(value, mt, path)
    value = _scalar(value)
    enum = field.enum_type
    if enum is not None:
        known = ", ".join(v.name for v in enum.values if v.number)
        if isinstance(value, str):
            if value not in enum.values_by_name:
                raise invalid(f"{path}: unknown value {quote(value)}; use one of {known}")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"{path}: must be one of {known} (or its number)")
        elif value not in enum.values_by_number:
            raise invalid(f"{path}: unknown value {value}; use one of {known}")
    return value


def parse_into(data: dict[str, Any], message: M, *, normalized: bool = False) -> M:
    """Fill ``message`` from ``data``; a type or enum mistake is INVALID_ARGUMENT naming it."""
    try:
        json_format.ParseDict(
            data if normalized else normalize(data, message.DESCRIPTOR),
            message,
            ignore_unknown_fields=True,
        )
    except json_format.ParseError as err:
        raise invalid(_friendly(str(err))) from None
    return message


def _friendly(text: str) -> str:
    # protobuf says "Failed to parse filters field: Failed to parse statuses field: Invalid enum
    # value X for enum type …": keep the path and the cause.
    parts = [p.strip() for p in text.split("Failed to parse") if p.strip()]
    path = [p.split(" field:")[0].strip() for p in parts if " field:" in p]
    cause = parts[-1].split(" field:", 1)[-1].strip() if parts else text
    cause = cause.split(" at ")[0].rstrip(".")
    return f"{'.'.join(path) or 'body'}: {cause}"
