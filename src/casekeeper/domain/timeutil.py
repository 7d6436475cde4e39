"""Microsecond timestamps and RFC 3339 text."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from casekeeper.domain.errors import invalid

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    return time.time_ns() // 1000


def to_rfc3339(us: int) -> str:
    """``2025-09-22T10:30:00.123456Z`` (UTC, microseconds)."""
    seconds, micros = divmod(us, 1_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micros:06d}Z"


def parse_rfc3339(text: str, *, field: str = "timestamp") -> int:
    """Parse an RFC 3339 timestamp (any offset, up to nanosecond digits) into UTC microseconds."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    if "." in raw:
        head, _, rest = raw.partition(".")
        count = len(rest) - len(rest.lstrip("0123456789"))
        digits, tz = rest[:count], rest[count:]
        raw = f"{head}.{(digits + '000000')[:6]}{tz}"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(f"{field}: {text!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise invalid(f"{field}: {text!r} needs a time zone offset (e.g. 'Z')")
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
