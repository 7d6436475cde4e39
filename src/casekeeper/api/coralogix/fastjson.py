"""Spec JSON → protobuf, quickly, for data casekeeper itself stored.

``json_format.ParseDict`` validates every step and parses timestamps with ``strptime``; for
JSON that came out of ``MessageToDict`` in the first place (indicators, timeline payloads) that
care costs most of a GetCase. This walks a per-message table built once. Anything it does not
expect falls back to ``ParseDict``, which then reports the problem properly.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from casekeeper.domain.timeutil import parse_rfc3339

SCALAR, INT64, ENUM, TIMESTAMP, DURATION, MESSAGE, MAP, MAP_MESSAGE = range(8)
_INT64 = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT64,
          FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64}  # fmt: skip

Entry = tuple[str, int, bool, Any]  # (field name, kind, repeated, enum names | None)


_TABLES: dict[type, dict[str, Entry]] = {}


def _table(msg: Any) -> dict[str, Entry]:
    found = _TABLES.get(type(msg))
    if found is None:
        found = _TABLES[type(msg)] = _build(msg.DESCRIPTOR)
    return found


def _build(desc: Any) -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    for f in desc.fields:
        mt = f.message_type
        extra: Any = None
        if mt is not None and mt.GetOptions().map_entry:
            value_type = mt.fields_by_name["value"].message_type
            kind = MAP_MESSAGE if value_type is not None else MAP
        elif mt is not None and mt.full_name == "google.protobuf.Timestamp":
            kind = TIMESTAMP
        elif mt is not None and mt.full_name == "google.protobuf.Duration":
            kind = DURATION
        elif mt is not None:
            kind = MESSAGE
        elif f.enum_type is not None:
            kind, extra = ENUM, {v.name: v.number for v in f.enum_type.values}
        elif f.type in _INT64:
            kind = INT64
        else:
            kind = SCALAR
        entry = (f.name, kind, f.is_repeated and kind not in (MAP, MAP_MESSAGE), extra)
        table[f.json_name] = entry
        table[f.name] = entry
    return table


def _fill(msg: Any, data: dict[str, Any]) -> None:
    table = _table(msg)
    for key, value in data.items():
        entry = table.get(key)
        if entry is None or value is None:
            continue
        name, kind, repeated, extra = entry
        if repeated:
            target = getattr(msg, name)
            if kind == MESSAGE:
                for item in value:
                    _fill(target.add(), item)
            elif kind == TIMESTAMP:
                for item in value:
                    _set_time(target.add(), item)
            elif kind == SCALAR:
                target.extend(value)
            else:
                target.extend([_scalar(kind, extra, item) for item in value])
        elif kind == SCALAR:
            setattr(msg, name, value)
        elif kind == ENUM:
            setattr(msg, name, extra[value] if isinstance(value, str) else value)
        elif kind == MESSAGE:
            sub = getattr(msg, name)
            sub.SetInParent()
            _fill(sub, value)
        elif kind == TIMESTAMP:
            _set_time(getattr(msg, name), value)
        elif kind == DURATION:
            getattr(msg, name).FromJsonString(value)
        elif kind == MAP:
            target = getattr(msg, name)
            for k, v in value.items():  # the map's update() is a Python-level mixin
                target[k] = v
        elif kind == MAP_MESSAGE:
            target = getattr(msg, name)
            for k, v in value.items():
                _fill(target[k], v)
        else:
            setattr(msg, name, _scalar(kind, extra, value))


def _scalar(kind: int, extra: Any, value: Any) -> Any:
    if kind == ENUM:
        return extra[value] if isinstance(value, str) else value
    if kind == INT64:
        return int(value)
    return value


def _set_time(ts: Any, text: str) -> None:
    micros = parse_rfc3339(text)
    ts.seconds, rest = divmod(micros, 1_000_000)
    ts.nanos = rest * 1000


def fill_from_json(message: Message, data: dict[str, Any]) -> None:
    """Fill ``message`` (empty: a new message or sub-message) from ``data``, the spec's JSON."""
    try:
        _fill(message, data)
    except Exception:  # anything unexpected: let ParseDict do it and explain
        message.Clear()
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
