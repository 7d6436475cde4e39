"""Wire compatibility of our incidents protos with Coralogix's, both directions.

A client generated from Coralogix's public protos must talk to casekeeper byte for byte. The
public protos are not on this machine, so ``table.py`` types out their field table (API digest
§9.1, enum numbers from §3) and this module builds descriptors from it in a pool of its own.
For every message, a copy filled from those descriptors is encoded and decoded by our generated
class, and a copy filled from our class is decoded by theirs: every field must arrive intact,
and the bytes must be the same. Values are chosen to tell look-alike types apart: negative
Int32Values, UInt32Values above 2**31, UInt64Values above 2**32, two items in every repeated
field, and every value of every enum on its own.

``test_the_check_sees_drift`` mutates single table entries (a field number, a wrapper, a
plain type for a wrapper, an enum number, ...) and requires the same check to fail.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    json_format,
    message_factory,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from casekeeper.proto.com.coralogixapis.incidents.v1 import incidents_service_pb2
from tests.api.coralogix.incidents_wire.table import ENUMS, MESSAGES, RPCS, STR, Field

PKG = "com.coralogixapis.incidents.v1"
SERVICE = "IncidentsService"
OURS = incidents_service_pb2.DESCRIPTOR.pool
FD = descriptor_pb2.FieldDescriptorProto

Messages = dict[str, list[Field]]
Enums = dict[str, dict[str, int]]


# -- descriptors from the table ----------------------------------------------------------------


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _type(fd: descriptor_pb2.FieldDescriptorProto, type_: str, enums: Enums) -> None:
    if type_ == STR:
        fd.type = FD.TYPE_STRING
    elif type_ in enums:
        fd.type, fd.type_name = FD.TYPE_ENUM, f".{PKG}.{type_}"
    elif type_.startswith("google.protobuf."):
        fd.type, fd.type_name = FD.TYPE_MESSAGE, f".{type_}"
    else:
        fd.type, fd.type_name = FD.TYPE_MESSAGE, f".{PKG}.{type_}"


def build_pool(messages: Messages, enums: Enums) -> descriptor_pool.DescriptorPool:
    """A pool holding the table as one proto3 file of package ``PKG``, with the service."""
    pool = descriptor_pool.DescriptorPool()
    for known in (wrappers_pb2, timestamp_pb2, duration_pb2):
        dep = descriptor_pb2.FileDescriptorProto()
        known.DESCRIPTOR.CopyToProto(dep)
        pool.Add(dep)
    file = descriptor_pb2.FileDescriptorProto(
        name="wire_table/incidents.proto",
        package=PKG,
        syntax="proto3",
        dependency=[x.DESCRIPTOR.name for x in (wrappers_pb2, timestamp_pb2, duration_pb2)],
    )
    for name, values in enums.items():
        enum = file.enum_type.add(name=name)
        for value, number in values.items():
            enum.value.add(name=value, number=number)
    for name, fields in messages.items():
        msg = file.message_type.add(name=name)
        groups = list(dict.fromkeys(x.oneof for x in fields if x.oneof))
        for group in groups:
            msg.oneof_decl.add(name=group)
        for x in fields:
            fd = msg.field.add(name=x.name, number=x.number, label=FD.LABEL_OPTIONAL)
            if x.map:
                entry = msg.nested_type.add(name=f"{_camel(x.name)}Entry")
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, label=FD.LABEL_OPTIONAL, type=FD.TYPE_STRING)
                _type(
                    entry.field.add(name="value", number=2, label=FD.LABEL_OPTIONAL), x.type, enums
                )
                fd.label, fd.type = FD.LABEL_REPEATED, FD.TYPE_MESSAGE
                fd.type_name = f".{PKG}.{name}.{entry.name}"
                continue
            _type(fd, x.type, enums)
            if x.rep:
                fd.label = FD.LABEL_REPEATED
            if x.oneof:
                fd.oneof_index = groups.index(x.oneof)
    service = file.service.add(name=SERVICE)
    for rpc in RPCS:
        service.method.add(
            name=rpc, input_type=f".{PKG}.{rpc}Request", output_type=f".{PKG}.{rpc}Response"
        )
    pool.Add(file)
    return pool


def _class(pool: descriptor_pool.DescriptorPool, name: str) -> type[Message]:
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PKG}.{name}"))


# -- filling a message with values that tell types apart -----------------------------------------


def _seed(d: Descriptor, f: FieldDescriptor, i: int) -> int:
    # From names only: both sides fill a message alike when their schemas agree.
    return zlib.crc32(f"{d.name}.{f.name}".encode()) % 10_000 + 1 + 7 * i


def _well_known(sub: Message, seed: int, label: str) -> bool:
    kind = sub.DESCRIPTOR.full_name
    if kind == "google.protobuf.StringValue":
        sub.value = f"{label}#{seed}"  # type: ignore[attr-defined]
    elif kind == "google.protobuf.BoolValue":
        sub.value = True  # type: ignore[attr-defined]
    elif kind == "google.protobuf.Int32Value":
        sub.value = -seed  # type: ignore[attr-defined]
    elif kind == "google.protobuf.UInt32Value":
        sub.value = 2**31 + seed  # type: ignore[attr-defined]
    elif kind == "google.protobuf.UInt64Value":
        sub.value = 2**33 + seed  # type: ignore[attr-defined]
    elif kind == "google.protobuf.Timestamp":
        sub.seconds, sub.nanos = 1_700_000_000 + seed, seed * 1000  # type: ignore[attr-defined]
    elif kind == "google.protobuf.Duration":
        sub.seconds, sub.nanos = seed, seed * 1000  # type: ignore[attr-defined]
    else:
        return False
    return True


def _descriptor(msg: Message | type[Message]) -> Descriptor:
    # The stubs type DESCRIPTOR as the pure-Python or the upb class; both have this interface.
    d: Descriptor = msg.DESCRIPTOR  # type: ignore[assignment]
    return d


def _scalar(f: FieldDescriptor, seed: int) -> int | str:
    """An enum number (never 0 where the enum has another) or a string."""
    if f.enum_type is None:
        return f"{f.name}-{seed}"
    names = sorted(v.name for v in f.enum_type.values if v.number != 0)
    return f.enum_type.values_by_name[names[seed % len(names)]].number if names else 0


def _sub(sub: Message, variant: int, seed: int, label: str) -> None:
    if not _well_known(sub, seed, label):
        fill(sub, variant)


def fill(msg: Message, variant: int = 0) -> Message:
    """Every field of ``msg`` set, recursively, to a value that is not the default; in each
    oneof the member ``variant`` (by field number, modulo its size)."""
    d = _descriptor(msg)
    chosen = {
        o.name: sorted(o.fields, key=lambda x: x.number)[variant % len(o.fields)].name
        for o in d.oneofs
    }
    for f in d.fields:
        if f.containing_oneof is not None and chosen[f.containing_oneof.name] != f.name:
            continue
        label, target = f"{d.name}.{f.name}", getattr(msg, f.name)
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value = f.message_type.fields_by_name["value"]
            for i in range(2):
                key, seed = f"{f.name}-key-{i}", _seed(d, f, i)
                if value.message_type is None:
                    target[key] = _scalar(value, seed)
                else:
                    _sub(target[key], variant, seed, label)
        elif f.is_repeated:
            for i in range(2):
                if f.message_type is None:
                    target.append(_scalar(f, _seed(d, f, i)))
                else:
                    _sub(target.add(), variant, _seed(d, f, i), label)
        elif f.message_type is None:
            setattr(msg, f.name, _scalar(f, _seed(d, f, 0)))
        else:
            target.SetInParent()  # an empty payload (IncidentEventUnassign) is still set
            _sub(target, variant, _seed(d, f, 0), label)
    return msg


# -- the check -------------------------------------------------------------------------------


def _json(msg: Message) -> dict[str, Any]:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def _variants(d: Descriptor) -> int:
    return max([len(o.fields) for o in d.oneofs] or [1])


def _cross(name: str, variant: int, src: Message, dst_cls: type[Message], way: str) -> list[str]:
    data = src.SerializeToString(deterministic=True)
    dst = dst_cls()
    where = f"{name} (variant {variant}, {way})"
    try:
        dst.ParseFromString(data)
    except DecodeError as err:
        return [f"{where}: {err}"]
    sent, got = _json(src), _json(dst)
    if sent != got:
        diff = {
            k: (sent.get(k), got.get(k))
            for k in sent.keys() | got.keys()
            if sent.get(k) != got.get(k)
        }
        return [f"{where}: (sent, got) by field: {diff}"]
    if dst.SerializeToString(deterministic=True) != data:
        return [f"{where}: the bytes changed on the way"]
    return []


def message_problems(theirs: descriptor_pool.DescriptorPool, name: str) -> list[str]:
    """How ``name`` fails to cross between ``theirs`` and our generated class, filled whole."""
    try:
        ours_cls = _class(OURS, name)
    except KeyError:
        return [f"{PKG}.{name}: not in our protos"]
    their_cls = _class(theirs, name)
    out = []
    for variant in range(_variants(_descriptor(their_cls))):
        out += _cross(name, variant, fill(their_cls(), variant), ours_cls, "theirs -> ours")
        ours = fill(ours_cls(), variant)
        out += _cross(name, variant, ours, their_cls, "ours -> theirs")
        if not out and ours.SerializeToString(deterministic=True) != fill(
            their_cls(), variant
        ).SerializeToString(deterministic=True):
            out.append(f"{name} (variant {variant}): the two sides fill different bytes")
    return out


def _enum_fields(d: Descriptor) -> Iterator[tuple[FieldDescriptor, EnumDescriptor]]:
    return ((f, f.enum_type) for f in d.fields if f.enum_type is not None)


def enum_problems(theirs: descriptor_pool.DescriptorPool, name: str) -> list[str]:
    """Every value of every enum field of message ``name``, alone, both directions."""
    out: list[str] = []
    sides = [
        (_class(theirs, name), _class(OURS, name), "theirs -> ours"),
        (_class(OURS, name), _class(theirs, name), "ours -> theirs"),
    ]
    for src_cls, dst_cls, way in sides:
        for f, enum in _enum_fields(_descriptor(src_cls)):
            for value in enum.values:
                src = src_cls()
                if f.is_repeated:
                    getattr(src, f.name).append(value.number)
                else:
                    setattr(src, f.name, value.number)
                out += _cross(name, 0, src, dst_cls, f"{way}, {f.name}={value.name}")
    return out


def problems(messages: Messages, enums: Enums) -> list[str]:
    theirs = build_pool(messages, enums)
    out: list[str] = []
    for name in messages:
        found = message_problems(theirs, name)
        out += found or enum_problems(theirs, name)
    return out


@cache
def _table_pool() -> descriptor_pool.DescriptorPool:
    return build_pool(MESSAGES, ENUMS)


# -- tests ---------------------------------------------------------------------------------------


def test_table_and_ours_hold_the_same_messages_and_enums() -> None:
    ours: set[str] = set()
    our_enums: set[str] = set()
    service = incidents_service_pb2.DESCRIPTOR
    for file in [service, *service.dependencies]:
        if file.package == PKG:
            ours |= set(file.message_types_by_name)
            our_enums |= set(file.enum_types_by_name)
    assert ours == set(MESSAGES)
    assert our_enums == set(ENUMS)


@pytest.mark.parametrize("name", list(MESSAGES))
def test_message_crosses_both_ways(name: str) -> None:
    assert message_problems(_table_pool(), name) == []


@pytest.mark.parametrize(
    "name", [n for n, fs in MESSAGES.items() if any(x.type in ENUMS for x in fs)]
)
def test_every_enum_value_crosses_both_ways(name: str) -> None:
    assert enum_problems(_table_pool(), name) == []


@pytest.mark.parametrize("name", list(ENUMS))
def test_enum_numbers_are_exact(name: str) -> None:
    # OrderByFields and the one-value IncidentEventOrderByFieldType carry nothing on the wire
    # above; their numbers still must match.
    ours = OURS.FindEnumTypeByName(f"{PKG}.{name}")
    assert {v.name: v.number for v in ours.values} == ENUMS[name]


def test_service_methods_and_their_messages() -> None:
    ours = OURS.FindServiceByName(f"{PKG}.{SERVICE}")
    theirs = _table_pool().FindServiceByName(f"{PKG}.{SERVICE}")

    def shape(s: Any) -> dict[str, tuple[str, str]]:
        return {m.name: (m.input_type.full_name, m.output_type.full_name) for m in s.methods}

    assert shape(ours) == shape(theirs)


def test_incident_event_covers_each_payload_and_originator() -> None:
    cls = _class(_table_pool(), "IncidentEvent")
    seen = {
        (
            fill(cls(), v).WhichOneof("incident_event_payload"),
            fill(cls(), v).WhichOneof("originator"),
        )
        for v in range(6)
    }
    assert {p for p, _ in seen} == {
        "snooze_indicator",
        "assignment",
        "upsert_state",
        "acknowledge",
        "close",
        "unassign",
    }
    assert {o for _, o in seen} == {"administrative_event", "operational_event"}


# -- the check fails when the protos drift ----------------------------------------------------


def _edit(name: str, field: str, **change: Any) -> Callable[[Messages, Enums], None]:
    def apply(messages: Messages, _enums: Enums) -> None:
        messages[name] = [
            dataclasses.replace(x, **change) if x.name == field else x for x in messages[name]
        ]

    return apply


def _renumber(enum: str, value: str, number: int) -> Callable[[Messages, Enums], None]:
    def apply(_messages: Messages, enums: Enums) -> None:
        enums[enum] = {**enums[enum], value: number}

    return apply


DRIFTS = {
    "field number": _edit("Incident", "severity", number=8),
    "field number in a request": _edit("ListIncidentsRequest", "pagination", number=3),
    "plain string for a StringValue": _edit("Incident", "name", type=STR),
    "plain string for a repeated StringValue": _edit(
        "AssignIncidentsRequest", "incident_ids", type=STR
    ),
    "UInt64Value for a UInt32Value": _edit(
        "PaginationResponse", "total_size", type="google.protobuf.UInt64Value"
    ),
    "UInt32Value for an Int32Value": _edit(
        "AssigneeWithCount", "count", type="google.protobuf.UInt32Value"
    ),
    "UInt32Value for a UInt64Value": _edit(
        "ListIncidentEventsTotalCountResponse", "count", type="google.protobuf.UInt32Value"
    ),
    "StringValue for a BoolValue": _edit(
        "Incident", "is_muted", type="google.protobuf.StringValue"
    ),
    "Duration for a Timestamp": _edit("Incident", "created_at", type="google.protobuf.Duration"),
    "singular for repeated": _edit("Incident", "meta_labels", rep=False),
    "oneof member number": _edit("IncidentEvent", "acknowledge", number=206),
    "member outside its oneof": _edit("IncidentEvent", "close", oneof=None),
    "enum type of a field": _edit("IncidentStatusCount", "status", type="IncidentState"),
    "enum number": _renumber("IncidentSeverity", "INCIDENT_SEVERITY_LOW", 6),
    "enum number in an event": _renumber("IncidentEventType", "INCIDENT_EVENT_TYPE_ACKNOWLEDGE", 3),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_the_check_sees_drift(drift: str) -> None:
    messages = {k: list(v) for k, v in MESSAGES.items()}
    enums = {k: dict(v) for k, v in ENUMS.items()}
    DRIFTS[drift](messages, enums)
    assert messages != MESSAGES or enums != ENUMS
    assert problems(messages, enums), f"a table with {drift} still crossed unharmed"
