"""RFC 3339 text and microseconds: the fast path for stored timestamps agrees with the general
parser, and anything it does not recognise still gets the general parser's answer."""

from __future__ import annotations

import random
import time

import pytest

from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.timeutil import _canonical, parse_rfc3339, to_rfc3339


def test_stored_form_round_trips_across_centuries() -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        micros = rng.randrange(-(10**16), 2 * 10**17)
        text = to_rfc3339(micros)
        assert _canonical(text) == micros
        assert parse_rfc3339(text) == micros


def test_to_rfc3339_matches_strftime_across_the_timestamp_range() -> None:
    def reference(us: int) -> str:
        seconds, micros = divmod(us, 1_000_000)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        return f"{stamp}.{micros:06d}Z"

    rng = random.Random(11)
    edges = [0, -1, 1, 86_399_999_999, 86_400_000_000, -86_400_000_001,
             -62_135_596_800_000_000, 253_402_300_799_999_999]  # fmt: skip
    values = edges + [rng.randrange(-62_135_596_800_000_000, 253_402_300_800_000_000)
                      for _ in range(20_000)]  # fmt: skip
    for us in values:
        assert to_rfc3339(us) == reference(us), us


@pytest.mark.parametrize(
    ("text", "micros"),
    [
        ("2026-10-15T04:25:05Z", 1_792_038_305_000_000),
        ("2026-10-15T06:25:05.5+02:00", 1_792_038_305_500_000),
        ("2026-10-15t04:25:05.123456789z", 1_792_038_305_123_456),
    ],
)
def test_other_rfc3339_forms_take_the_general_parser(text: str, micros: int) -> None:
    assert _canonical(text) is None
    assert parse_rfc3339(text) == micros


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00.000000Z",
        "2026-10-15T24:00:00.000000Z",
        "2026-10-15T04:60:00.000000Z",
        "2026-10-15T04:25: 5.000000Z",
        "2026-10-15T04:25:05.000000",
    ],
)
def test_malformed_timestamps_are_refused(text: str) -> None:
    assert _canonical(text) is None
    with pytest.raises(CasekeeperError):
        parse_rfc3339(text)


def test_fast_path_takes_only_ascii_digits() -> None:
    assert _canonical("2026-10-15T04:25:05.00000\u0663Z") is None
