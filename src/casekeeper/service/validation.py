"""Input rules for every caller: ids, text lengths, trimming, enum values, commands."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

import orjson

from casekeeper.domain import commands as cmd
from casekeeper.domain.enums import CasePriority
from casekeeper.domain.errors import case_not_found, invalid, quote
from casekeeper.domain.model import (
    MAX_ASSIGNEES,
    MAX_DESCRIPTION,
    MAX_REASON,
    MAX_TAG,
    MAX_TAGS,
    MAX_TITLE,
    CaseRef,
    parse_case_ref,
)

MAX_ID = 64
MAX_BULK = 1000
_ID_CHARS = re.compile(r"^[A-Za-z0-9-]+$")
_UUID_ANY = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
E = TypeVar("E")


def case_ref(raw: str, *, field: str = "id") -> CaseRef:
    """A case id as given by a caller: a UUID or a readable id like ``CASE-123`` (any case).

    Text that cannot be an id at all is INVALID_ARGUMENT; an id of the right shape that names
    no case (``case-999``, ``FOO-1``) is NOT_FOUND.
    """
    text = raw
    if not text:
        raise invalid("required; give a case UUID or a readable id like CASE-123", field=field)
    if len(text) > MAX_ID:
        raise invalid(f"at most {MAX_ID} characters (got {len(text)})", field=field)
    if not _ID_CHARS.fullmatch(text):
        raise invalid(
            f"{quote(raw)} is not a case UUID or a readable id like CASE-123", field=field
        )
    ref = parse_case_ref(text)
    if ref is None:
        if re.fullmatch(r"[A-Za-z]+-[0-9]+", text) or _UUID_ANY.fullmatch(text):
            raise case_not_found(text)
        raise invalid(
            f"{quote(raw)} is not a case UUID or a readable id like CASE-123", field=field
        )
    return CaseRef(raw=raw, uuid=ref.uuid, number=ref.number)


def bulk_ids(ids: Sequence[E]) -> list[E]:
    if not ids:
        raise invalid("give at least one case id", field="ids")
    if len(ids) > MAX_BULK:
        raise invalid(f"at most {MAX_BULK} ids per call (got {len(ids)})", field="ids")
    return list(ids)


def uuid_text(raw: str, *, field: str) -> str:
    text = raw
    if not _UUID_ANY.fullmatch(text):
        raise invalid(f"{quote(raw)} is not a UUID", field=field)
    return text.lower()


def user_id(raw: str, *, field: str = "assignee.userId") -> str:
    return uuid_text(raw, field=field)


def text(raw: str | None, *, field: str, max_len: int, trim: bool = True) -> str:
    value = (raw or "").strip() if trim else (raw or "")
    if not value.strip():
        raise invalid("must contain a non-whitespace character", field=field)
    if "\x00" in value:
        raise invalid("must not contain NUL characters", field=field)
    if len(value) > max_len:
        raise invalid(f"at most {max_len} characters (got {len(value)})", field=field)
    return value


def optional_text(raw: str | None, *, field: str, max_len: int) -> str | None:
    return None if raw is None else text(raw, field=field, max_len=max_len)


def priority(value: CasePriority, *, field: str = "priority") -> CasePriority:
    if value is CasePriority.UNSPECIFIED:
        raise invalid("required; give P1 (most urgent) to P5", field=field)
    return value


def enum_list(
    values: Sequence[int], enum: type[E], *, field: str, max_len: int = 1000
) -> tuple[E, ...]:
    if len(values) > max_len:
        raise invalid(f"at most {max_len} values", field=field)
    out: list[E] = []
    for v in values:
        try:
            member = enum(v)  # type: ignore[call-arg]
        except ValueError:
            raise invalid(f"unknown value {v}", field=field) from None
        if int(v) == 0:
            raise invalid("the UNSPECIFIED value is not a filter", field=field)
        out.append(member)
    return tuple(out)


def _attachment_text(body: dict[str, object], key: str, where: str, max_len: int) -> None:
    value = body.get(key)
    if not isinstance(value, str):
        raise invalid("required", field=f"{where}.{key}")
    text(value, field=f"{where}.{key}", max_len=max_len)


def _optional_suffix(body: dict[str, object], where: str) -> None:
    suffix = body.get("queryLinkSuffix")
    if suffix is not None and (
        not isinstance(suffix, str) or len(suffix) > 4096 or "\x00" in suffix
    ):
        raise invalid("at most 4096 characters", field=f"{where}.queryLinkSuffix")


def _file(body: object, where: str) -> None:
    if not isinstance(body, dict):
        raise invalid("required", field=where)
    uuid_text(str(body.get("fileId", "")), field=f"{where}.fileId")
    _attachment_text(body, "fileName", where, 4096)
    if not isinstance(body.get("isDeleted", False), bool):
        raise invalid("must be true or false", field=f"{where}.isDeleted")


def attachment(data: dict[str, object], where: str) -> None:
    """Check one CommentAttachment (spec JSON): exactly one of log, customWidget, file."""
    kinds = [k for k in ("log", "customWidget", "file") if data.get(k) is not None]
    if len(kinds) != 1:
        raise invalid("give exactly one of 'log', 'customWidget' or 'file'", field=where)
    kind = kinds[0]
    body = data[kind]
    at = f"{where}.{kind}"
    if not isinstance(body, dict):
        raise invalid("must be an object", field=at)
    if kind == "file":
        _file(body, at)
    elif kind == "log":
        uuid_text(str(body.get("logId", "")), field=f"{at}.logId")
        if not isinstance(body.get("logTimestamp"), str):
            raise invalid("required", field=f"{at}.logTimestamp")
        _attachment_text(body, "logContent", at, 10_000)
        _optional_suffix(body, at)
    else:
        _attachment_text(body, "customDashboardId", at, 4096)
        _attachment_text(body, "widgetId", at, 4096)
        _file(body.get("widgetScreenshot"), f"{at}.widgetScreenshot")
        _optional_suffix(body, at)


def expected_version(version: int | None) -> None:
    if version is not None and version < 1:
        raise invalid(f"a case's version is 1 or more (got {version})", field="version")


_NAMESPACE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_EXTENSION = 65_536  # bytes of one dialect's fields, as JSON


def _strings(
    values: tuple[str, ...], *, field: str, most: int, check: Callable[..., str]
) -> tuple[str, ...]:
    if len(values) > most:
        raise invalid(f"at most {most} values (got {len(values)})", field=field)
    return tuple(check(x, field=f"{field}[{i}]") for i, x in enumerate(values))


def _tag(raw: str, *, field: str) -> str:
    return text(raw, field=field, max_len=MAX_TAG)


def command(c: cmd.CaseCommand) -> cmd.CaseCommand:
    """``c`` with its input checked and normalized (ids lowercased, text trimmed), or
    INVALID_ARGUMENT naming the canonical field at fault."""
    match c:
        case cmd.Assign(user):
            return cmd.Assign(user_id(user, field="assignee"))
        case cmd.SetAssignees(users):
            return cmd.SetAssignees(
                _strings(users, field="assignees", most=MAX_ASSIGNEES, check=uuid_text)
            )
        case cmd.Resolve(reason):
            return cmd.Resolve(optional_text(reason, field="reason", max_len=MAX_REASON))
        case cmd.Retitle(title):
            return cmd.Retitle(text(title, field="title", max_len=MAX_TITLE))
        case cmd.SetResolutionReason(reason):
            return cmd.SetResolutionReason(
                text(reason, field="resolution_reason", max_len=MAX_REASON)
            )
        case cmd.SetDescription(desc):
            if desc is None or not desc.strip():
                return cmd.SetDescription(None)
            return cmd.SetDescription(
                text(desc, field="description", max_len=MAX_DESCRIPTION, trim=False)
            )
        case cmd.SetTags(tags) | cmd.AddTags(tags) | cmd.RemoveTags(tags):
            return type(c)(_strings(tags, field="tags", most=MAX_TAGS, check=_tag))
        case cmd.SetPriorityOverride(prio):
            priority(prio)
            return c
        case cmd.SetExtension(namespace, value):
            if not _NAMESPACE.fullmatch(namespace):
                raise invalid(f"{quote(namespace)} is not a namespace", field="extensions")
            if value is not None and not isinstance(value, dict):
                raise invalid("must be an object", field=f"extensions.{namespace}")
            try:
                size = len(orjson.dumps(value)) if value is not None else 0
            except orjson.JSONEncodeError:  # nested deeper than JSON is written
                raise invalid("nested too deeply", field=f"extensions.{namespace}") from None
            if size > MAX_EXTENSION:
                raise invalid(f"at most {MAX_EXTENSION} bytes", field=f"extensions.{namespace}")
            return c
    return c  # nothing to check: the command carries no input, or a typed one (an enum)
