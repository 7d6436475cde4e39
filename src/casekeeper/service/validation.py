"""Input rules shared by every adapter: ids, text lengths, trimming, enum values."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from casekeeper.domain.enums import CasePriority
from casekeeper.domain.errors import case_not_found, invalid, quote
from casekeeper.domain.model import CaseRef, parse_case_ref

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
        raise invalid(f"{field}: required; give a case UUID or a readable id like CASE-123")
    if len(text) > MAX_ID:
        raise invalid(f"{field}: at most {MAX_ID} characters (got {len(text)})")
    if not _ID_CHARS.fullmatch(text):
        raise invalid(f"{field}: {quote(raw)} is not a case UUID or a readable id like CASE-123")
    ref = parse_case_ref(text)
    if ref is None:
        if re.fullmatch(r"[A-Za-z]+-[0-9]+", text) or _UUID_ANY.fullmatch(text):
            raise case_not_found(text)
        raise invalid(f"{field}: {quote(raw)} is not a case UUID or a readable id like CASE-123")
    return CaseRef(raw=raw, uuid=ref.uuid, number=ref.number)


def bulk_ids(ids: Sequence[str]) -> list[str]:
    if not ids:
        raise invalid("ids: give at least one case id")
    if len(ids) > MAX_BULK:
        raise invalid(f"ids: at most {MAX_BULK} ids per call (got {len(ids)})")
    return list(ids)


def uuid_text(raw: str, *, field: str) -> str:
    text = raw
    if not _UUID_ANY.fullmatch(text):
        raise invalid(f"{field}: {quote(raw)} is not a UUID")
    return text.lower()


def user_id(raw: str, *, field: str = "assignee.userId") -> str:
    return uuid_text(raw, field=field)


def text(raw: str | None, *, field: str, max_len: int, trim: bool = True) -> str:
    value = (raw or "").strip() if trim else (raw or "")
    if not value.strip():
        raise invalid(f"{field}: must contain a non-whitespace character")
    if "\x00" in value:
        raise invalid(f"{field}: must not contain NUL characters")
    if len(value) > max_len:
        raise invalid(f"{field}: at most {max_len} characters (got {len(value)})")
    return value


def optional_text(raw: str | None, *, field: str, max_len: int) -> str | None:
    return None if raw is None else text(raw, field=field, max_len=max_len)


def priority(value: int, *, field: str = "priority") -> CasePriority:
    try:
        p = CasePriority(value)
    except ValueError:
        raise invalid(f"{field}: unknown value {value}; use CASE_PRIORITY_P1..P5") from None
    if p is CasePriority.UNSPECIFIED:
        raise invalid(f"{field}: required; use CASE_PRIORITY_P1..P5")
    return p


def enum_list(
    values: Sequence[int], enum: type[E], *, field: str, max_len: int = 1000
) -> tuple[E, ...]:
    if len(values) > max_len:
        raise invalid(f"{field}: at most {max_len} values")
    out: list[E] = []
    for v in values:
        try:
            member = enum(v)  # type: ignore[call-arg]
        except ValueError:
            raise invalid(f"{field}: unknown value {v}") from None
        if int(v) == 0:
            raise invalid(f"{field}: the UNSPECIFIED value is not a filter")
        out.append(member)
    return tuple(out)


def _attachment_text(body: dict[str, object], key: str, where: str, max_len: int) -> None:
    value = body.get(key)
    if not isinstance(value, str):
        raise invalid(f"{where}.{key}: required")
    text(value, field=f"{where}.{key}", max_len=max_len)


def _optional_suffix(body: dict[str, object], where: str) -> None:
    suffix = body.get("queryLinkSuffix")
    if suffix is not None and (
        not isinstance(suffix, str) or len(suffix) > 4096 or "\x00" in suffix
    ):
        raise invalid(f"{where}.queryLinkSuffix: at most 4096 characters")


def _file(body: object, where: str) -> None:
    if not isinstance(body, dict):
        raise invalid(f"{where}: required")
    uuid_text(str(body.get("fileId", "")), field=f"{where}.fileId")
    _attachment_text(body, "fileName", where, 4096)
    if not isinstance(body.get("isDeleted", False), bool):
        raise invalid(f"{where}.isDeleted: must be true or false")


def attachment(data: dict[str, object], where: str) -> None:
    """Check one CommentAttachment (spec JSON): exactly one of log, customWidget, file."""
    kinds = [k for k in ("log", "customWidget", "file") if data.get(k) is not None]
    if len(kinds) != 1:
        raise invalid(f"{where}: give exactly one of 'log', 'customWidget' or 'file'")
    kind = kinds[0]
    body = data[kind]
    at = f"{where}.{kind}"
    if not isinstance(body, dict):
        raise invalid(f"{at}: must be an object")
    if kind == "file":
        _file(body, at)
    elif kind == "log":
        uuid_text(str(body.get("logId", "")), field=f"{at}.logId")
        if not isinstance(body.get("logTimestamp"), str):
            raise invalid(f"{at}.logTimestamp: required")
        _attachment_text(body, "logContent", at, 10_000)
        _optional_suffix(body, at)
    else:
        _attachment_text(body, "customDashboardId", at, 4096)
        _attachment_text(body, "widgetId", at, 4096)
        _file(body.get("widgetScreenshot"), f"{at}.widgetScreenshot")
        _optional_suffix(body, at)
