"""Order and group keys of incidents, and the page tokens that resume after a key.

Every key is NULL-free (a missing close time or label is 0 or ""), so a token carries plain
values; durations are measured at the first page's ``now``, which the token keeps. Tokens are
opaque (base64url JSON) and tied to the query they came from (``fingerprint``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.domain.incident_query import DEFAULT_ORDER, IncidentField, OrderKey
from casekeeper.store.incident_codec import CONTEXTUAL
from casekeeper.store.schema import incident as inc
from casekeeper.store.schema import incident_label as lab
from casekeeper.store.tags import tag_text


@dataclass(frozen=True, slots=True)
class SortKey:
    expr: ColumnElement[Any]
    ascending: bool


def field_expr(field: IncidentField, now: int) -> ColumnElement[Any]:
    """The NULL-free SQL value of ``field`` that orders and groups incidents."""
    match field:
        case IncidentField.SEVERITY:
            return inc.c.severity_rank
        case IncidentField.NAME:
            return inc.c.name
        case IncidentField.CLOSED_TIME:
            return sa.func.coalesce(inc.c.closed_at, 0)
        case IncidentField.STATE:
            return inc.c.state
        case IncidentField.STATUS:
            return inc.c.status
        case IncidentField.LAST_STATE_UPDATE_TIME:
            return inc.c.last_state_update_time
        case IncidentField.APPLICATION_NAME:
            return sa.func.coalesce(inc.c.application_name, "")
        case IncidentField.SUBSYSTEM_NAME:
            return sa.func.coalesce(inc.c.subsystem_name, "")
        case IncidentField.ID:
            return inc.c.id
        case IncidentField.DURATION:
            return sa.func.coalesce(inc.c.closed_at, now) - inc.c.created_at
        case _:  # CREATED_TIME, and UNSPECIFIED as the API's default
            return inc.c.created_at


def label_expr(space_id: int, key: str) -> ColumnElement[Any]:
    """A contextual label's value on each incident ("" where it has none)."""
    value = (
        sa.select(lab.c.value)
        .where(
            lab.c.incident_id == inc.c.id,
            lab.c.space_id == space_id,
            lab.c.kind == CONTEXTUAL,
            lab.c.key == tag_text(key),
        )
        .order_by(lab.c.value)
        .limit(1)
        .scalar_subquery()
    )
    return sa.func.coalesce(value, "")


def key_expr(space_id: int, field: IncidentField | None, label: str | None, now: int) -> Any:
    if label is not None:
        return label_expr(space_id, label)
    return field_expr(field or IncidentField.UNSPECIFIED, now)


def sort_keys(space_id: int, order: Sequence[OrderKey], now: int) -> list[SortKey]:
    keys = [
        SortKey(key_expr(space_id, k.field, k.contextual_label, now), not k.descending)
        for k in order or DEFAULT_ORDER
    ]
    return [*keys, SortKey(inc.c.id, keys[-1].ascending)]


def after(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys``: a row-value comparison when
    every key runs one way (both databases then seek the index to it), else its expansion."""
    if all(k.ascending == keys[0].ascending for k in keys):
        left = sa.tuple_(*(k.expr for k in keys))
        right = sa.tuple_(*(sa.literal(v) for v in values))
        return left > right if keys[0].ascending else left < right
    branches = []
    for i, key in enumerate(keys):
        cond = [k.expr == v for k, v in zip(keys[:i], values[:i], strict=True)]
        cond.append(key.expr > values[i] if key.ascending else key.expr < values[i])
        branches.append(sa.and_(*cond))
    return sa.or_(*branches)


def order_by(keys: Sequence[SortKey]) -> list[Any]:
    return [k.expr.asc() if k.ascending else k.expr.desc() for k in keys]


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def invalid_token() -> CasekeeperError:
    return CasekeeperError(
        ErrorCode.INVALID_PAGE_TOKEN,
        "pagination.pageToken is not a token this server issued for this query; start again "
        "without a page token",
    )


def encode_token(query: str, now: int, values: Sequence[Any]) -> str:
    raw = json.dumps([query, now, list(values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, query: str, arity: int) -> tuple[int, list[Any]]:
    bad = invalid_token()
    try:
        padded = token + "=" * (-len(token) % 4)
        q, now, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise bad from None
    if q != query or not isinstance(now, int) or not isinstance(values, list):
        raise bad
    if len(values) != arity or not all(
        (isinstance(v, int) and not isinstance(v, bool) and abs(v) <= 2**62)
        or (isinstance(v, str) and len(v) <= 4096)
        for v in values
    ):
        raise bad
    return now, values
