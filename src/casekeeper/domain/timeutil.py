"""Microsecond timestamps and RFC 3339 text."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from casekeeper.domain.errors import invalid, quote

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    return time.time_ns() // 1000


_DATES: dict[int, str] = {}  # days since the epoch -> "YYYY-MM-DD"
_DATES_MAX = 100_000


def to_rfc3339(us: int) -> str:
    """``2025-09-22T10:30:00.123456Z`` (UTC, microseconds). The date part is formatted once
    per day seen (a REST list page renders a few hundred timestamps)."""
    seconds, micros = divmod(us, 1_000_000)
    days, clock = divmod(seconds, 86_400)
    date = _DATES.get(days)
    if date is None:
        date = time.strftime("%Y-%m-%d", time.gmtime(days * 86_400))
        if len(_DATES) >= _DATES_MAX:
            _DATES.clear()
        _DATES[days] = date
    hours, rest = divmod(clock, 3_600)
    minutes, secs = divmod(rest, 60)
    return f"{date}T{hours:02d}:{minutes:02d}:{secs:02d}.{micros:06d}Z"


_EPOCH_ORDINAL = _EPOCH.toordinal()
_DAYS: dict[str, int] = {}  # "YYYY-MM-DD" -> days since the epoch


def _canonical(text: str) -> int | None:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ``, the form ``to_rfc3339`` writes and stored JSON holds,
    without building a datetime (GetCase converts a handful per case); None for anything else."""
    if not (
        len(text) == 27
        and text[26] == "Z"
        and text[4] == "-"
        and text[7] == "-"
        and text[10] == "T"
        and text[13] == ":"
        and text[16] == ":"
        and text[19] == "."
    ):
        return None
    clock = text[11:13] + text[14:16] + text[17:19] + text[20:26]
    if not (clock.isascii() and clock.isdigit()):
        return None
    day = text[:10]
    days = _DAYS.get(day)
    if days is None:
        try:
            days = datetime.strptime(day, "%Y-%m-%d").toordinal() - _EPOCH_ORDINAL
        except ValueError:
            return None
        if len(_DAYS) > 10_000:
            _DAYS.clear()
        _DAYS[day] = days
    hour, minute, second = int(clock[0:2]), int(clock[2:4]), int(clock[4:6])
    if hour > 23 or minute > 59 or second > 59:
        return None
    return (((days * 24 + hour) * 60 + minute) * 60 + second) * 1_000_000 + int(clock[6:])


def parse_rfc3339(text: str, *, field: str = "timestamp") -> int:
    """Parse an RFC 3339 timestamp (any offset, up to nanosecond digits) into UTC microseconds."""
    fast = _canonical(text)
    if fast is not None:
        return fast
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
        raise invalid(f"{field}: {quote(text)} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise invalid(f"{field}: {quote(text)} needs a time zone offset (e.g. 'Z')")
    delta = parsed - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
