"""Reading untrusted JSON into typed values, every refusal naming the field at fault
(``alerts[3].labels``) so a sender can fix its payload from the 400 alone.

Only the wire's types are checked here (a string where a string belongs, an object of strings
for labels); lengths and counts are the signal service's, which checks every signal whatever
door it came through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.model import Micros
from casekeeper.domain.signals import MAX_SIGNALS
from casekeeper.domain.timeutil import parse_rfc3339

# Go's zero time.Time, which Alertmanager sends for "no end known yet".
ZERO_TIME: Final = "0001-01-01T00:00:00Z"
_TYPES: Final = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def load_json(body: bytes) -> Any:
    """The request body as JSON, or a 400 that says why it is not."""
    if not body.strip():
        raise invalid("the request body is empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise invalid(f"the request body is not JSON: {err}") from None


def kind(value: object) -> str:
    """What a JSON value is, in a sender's words: ``an array``, ``null``."""
    return "null" if value is None else _TYPES.get(type(value), type(value).__name__)


def wrong(field: str, wanted: str, value: object) -> CasekeeperError:
    return invalid(f"must be {wanted}, not {kind(value)}", field=field)


def obj(value: object, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise wrong(field, "a JSON object", value)
    return value


def array(value: object, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise wrong(field, "an array", value)
    return value


def batch(value: object, field: str) -> list[Any]:
    """A request's array of signals (or alerts): more than one batch takes is 413, a request
    too big to take, before any of it is read."""
    items = array(value, field)
    if len(items) > MAX_SIGNALS:
        raise CasekeeperError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"at most {MAX_SIGNALS} in one request, got {len(items)}; send smaller batches",
            field=field,
        )
    return items


def opt_str(data: Mapping[str, Any], key: str, field: str) -> str | None:
    """``data[key]`` if it is a string; None if absent or null."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong(field, "a string", value)
    return value


def req_str(data: Mapping[str, Any], key: str, field: str) -> str:
    value = opt_str(data, key, field)
    if value is None or not value.strip():
        raise invalid("is required", field=field)
    return value


def opt_int(data: Mapping[str, Any], key: str, field: str) -> int:
    """A non-negative integer, 0 when absent."""
    value = data.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"must be a non-negative integer, not {quote(value)}", field=field)
    return value


def opt_bool(data: Mapping[str, Any], key: str, field: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise wrong(field, "true or false", value)
    return value


def str_map(value: object, field: str) -> dict[str, str]:
    """An object of string values (labels, annotations); absent or null is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise wrong(field, "an object of strings", value)
    for key, item in value.items():
        if not isinstance(item, str):
            raise wrong(f"{field}.{key}", "a string", item)
    return value


def timestamp(value: object, field: str) -> Micros | None:
    """An RFC 3339 time (nanosecond digits allowed) in microseconds; absent, empty or Go's
    zero time is None."""
    if value is None or value in ("", ZERO_TIME):
        return None
    if not isinstance(value, str):
        raise wrong(field, "an RFC 3339 timestamp string", value)
    try:
        micros = parse_rfc3339(value, field=field)
    except CasekeeperError:
        raise invalid(
            f"{quote(value)} is not an RFC 3339 timestamp with a zone, "
            "such as 2026-01-02T03:04:05.123Z",
            field=field,
        ) from None
    # Go's zero time is written with other offsets and precisions too: anything before the
    # year 2 means "not set", never a real alert.
    return None if micros < -62_100_000_000_000_000 else micros


def is_http_url(text: str) -> bool:
    """An http(s) address with something after the scheme and no spaces (not a sentence that
    starts with one)."""
    head = text[:8].lower()
    return (
        head.startswith(("http://", "https://"))
        and len(text) > len("https://")
        and not any(c.isspace() for c in text)
    )
