"""Time-ordered event ids."""

from __future__ import annotations

import uuid

from casekeeper.domain.ids import uuid7


def test_uuid7_is_a_version_7_rfc_uuid_carrying_the_millisecond() -> None:
    micros = 1_795_000_000_123_456
    parsed = uuid.UUID(uuid7(micros))
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert parsed.int >> 80 == micros // 1000


def test_uuid7_sorts_by_time_and_is_unique_within_a_millisecond() -> None:
    earlier = [uuid7(1_000_000_000_000_000) for _ in range(500)]
    later = [uuid7(1_000_000_000_001_000) for _ in range(500)]
    assert len(set(earlier + later)) == 1000
    assert max(earlier) < min(later)


def test_uuid7_text_is_the_canonical_lowercase_form() -> None:
    for micros in (0, 1_795_000_000_123_456, (1 << 48) * 1000 - 1):
        text = uuid7(micros)
        assert text == str(uuid.UUID(text))
