"""Recording helpers: placeholders for random ids, protobuf map order, and the golden files.

Three things in casekeeper's output are not the same from one run to the next, by design or by
the libraries, and are normalised here (and only these):

- Ids made at random with no way to inject them: timeline event ids (UUIDv7: the time part
  comes from the clock, the rest is random) and API key ids (UUIDv4). Each becomes a
  placeholder: ``<key:NAME>`` for a key, ``<event-N>`` for events in order of first appearance.
  Placeholders replace the id's text in JSON, in messages and in protobuf bytes alike (in bytes
  the length prefix before the id stays that of the real id).
- The order of protobuf map entries (``permutation``, ``labels``, ``annotations``,
  ``groupLabels``, ``CaseDeepLinks.alertIndicators``). protobuf's upb runtime writes a map in
  hash-table order, and the hash is seeded per process: the same message serializes its map
  entries in a different order in each process. The gRPC bytes are therefore recorded with the
  entries of every map sorted (each entry's bytes unchanged), and the one REST body that renders
  a protobuf map through ``MessageToDict`` (GetCaseDeepLinks) gets that object's keys sorted.
- The ``Allow`` header of a 405: Starlette keeps a route's methods in a set, so their order
  follows the per-process string hash; the recorded header lists them sorted.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from google.protobuf.descriptor import Descriptor

DATA = Path(__file__).parent / "data"
UPDATE_ENV = "CASEKEEPER_GOLDEN_UPDATE"
_EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class Placeholders:
    """Random ids → stable names, learned in the order the recording meets them."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def name_key(self, key_id: str, label: str) -> None:
        self.names[key_id] = f"<key:{label}>"

    def learn(self, text: str) -> None:
        for found in _EVENT_ID.findall(text):
            if found not in self.names:
                events = sum(1 for n in self.names.values() if n.startswith("<event-"))
                self.names[found] = f"<event-{events + 1}>"

    def text(self, value: str) -> str:
        self.learn(value)
        for raw, name in self.names.items():
            value = value.replace(raw, name)
        return value

    def data(self, value: Any) -> Any:
        """``value`` (JSON-like) with every id replaced, in keys and strings alike."""
        return json.loads(self.text(json.dumps(value)))

    def bytes(self, value: bytes) -> bytes:
        self.learn(value.decode("latin-1"))
        for raw, name in self.names.items():
            value = value.replace(raw.encode(), name.encode())
        return value


# -- protobuf bytes with map entries in a stable order ---------------------------------------


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, start of the field, start of its payload, end)."""
    pos = 0
    while pos < len(data):
        start = pos
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, end = _varint(data, pos)
        elif wire == 1:
            end = pos + 8
        elif wire == 5:
            end = pos + 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            end = pos + length
        else:
            raise ValueError(f"wire type {wire} (groups) at byte {start}: not used by these protos")
        yield number, wire, start, pos, end
        pos = end


def sorted_maps(data: bytes, desc: Descriptor) -> bytes:
    """``data`` (a serialized ``desc``) with the entries of each map field sorted by their
    bytes, recursively; every other byte where and as it was."""
    chunks: list[bytes] = []
    maps: dict[int, list[int]] = {}  # field number -> positions of its entries in ``chunks``
    for number, wire, start, payload, end in _fields(data):
        field = desc.fields_by_number.get(number)
        kind = field.message_type if field is not None else None
        if wire != 2 or kind is None:  # not a message: its bytes as they are
            chunks.append(data[start:end])
            continue
        inner = sorted_maps(data[payload:end], kind)  # the same length as before
        chunks.append(data[start:payload] + inner)
        if kind.GetOptions().map_entry:
            maps.setdefault(number, []).append(len(chunks) - 1)
    for positions in maps.values():
        for at, entry in zip(positions, sorted(chunks[i] for i in positions), strict=True):
            chunks[at] = entry
    return b"".join(chunks)


def hex_lines(data: bytes, width: int = 32) -> list[str]:
    return [data[i : i + width].hex() for i in range(0, len(data), width)]


def sorted_deep_links(body: bytes) -> tuple[bytes, bool]:
    """A GetCaseDeepLinks body with ``deepLinks.alertIndicators`` in key order (it comes from a
    protobuf map); True when that map has more than one key (whether or not any moved this
    time). Refuses a body that would not re-serialize to itself, so nothing but that object's
    key order can differ from what the server sent."""
    data = json.loads(body)
    assert orjson.dumps(data) == body, "the body does not round-trip through orjson"
    links = data.get("deepLinks", {}).get("alertIndicators")
    if not isinstance(links, dict) or len(links) < 2:
        return body, False
    data["deepLinks"]["alertIndicators"] = dict(sorted(links.items()))
    return orjson.dumps(data), True


# -- golden files ----------------------------------------------------------------------------


def dumps(doc: Any) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def compare_or_update(name: str, doc: dict[str, Any]) -> None:
    """Compare ``doc`` with ``data/<name>.json``; with ``CASEKEEPER_GOLDEN_UPDATE=1`` write it
    instead. A mismatch fails with a diff of the first step that differs."""
    path = DATA / f"{name}.json"
    text = dumps(doc)
    if os.environ.get(UPDATE_ENV, "").strip() in {"1", "true", "yes"}:
        DATA.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), (
        f"{path} is missing: run `{UPDATE_ENV}=1 pytest tests/golden` once on code whose "
        "output is known to be right, and commit the file"
    )
    stored = json.loads(path.read_text(encoding="utf-8"))
    if stored == json.loads(text):
        return
    raise AssertionError(first_difference(name, stored, json.loads(text)))


def first_difference(name: str, stored: dict[str, Any], new: dict[str, Any]) -> str:
    old_steps, new_steps = stored.get("steps", []), new.get("steps", [])
    for old, now in zip(old_steps, new_steps, strict=False):
        if old != now:
            diff = difflib.unified_diff(
                _readable(old).splitlines(),
                _readable(now).splitlines(),
                "golden",
                "now",
                lineterm="",
                n=4,
            )
            lines = list(diff)
            shown = "\n".join(lines[:200]) + ("\n…" if len(lines) > 200 else "")
            return (
                f"{name}: step {old.get('step')} ({old.get('name')!r}) differs from the golden "
                f"file (data/{name}.json); first difference:\n{_body_difference(old, now)}"
                f"{shown}\nIf the change is intended, regenerate with {UPDATE_ENV}=1 and "
                "review the diff."
            )
    if len(old_steps) != len(new_steps):
        return f"{name}: {len(new_steps)} steps now, {len(old_steps)} in the golden file"
    others = sorted(k for k in {*stored, *new} if stored.get(k) != new.get(k))
    return f"{name}: the golden file differs outside its steps: {others}"


def _body_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Where two exact REST bodies part (their JSON may still be equal: order, spacing)."""
    a, b = old.get("body"), new.get("body")
    if not isinstance(a, str) or not isinstance(b, str) or a == b:
        return ""
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    lo = max(0, at - 60)
    return (
        f"exact body differs from character {at} (of {len(a)} / {len(b)}):\n"
        f"  golden: …{a[lo : at + 80]!r}\n  now:    …{b[lo : at + 80]!r}\n"
    )


def _readable(step: dict[str, Any]) -> str:
    """A step for a diff; the one-line exact body is left to ``_body_difference`` when its
    parsed form is recorded beside it."""
    out = dict(step)
    if "bodyJson" in out:
        out["body"] = "<exact text: see above>"
    return dumps(out)
