"""``quote``: a caller's value in an error message or a log line, bounded and with keys redacted;
every ``CasekeeperError`` message bounded too."""

from __future__ import annotations

import pytest

from casekeeper.domain.errors import MAX_MESSAGE, case_not_found, invalid, quote, redact

KEY = "ck_0a1b2c3d_" + "S3cr3t-_" * 5


def test_a_short_value_is_its_repr() -> None:
    assert quote("CASE-1") == "'CASE-1'"
    assert quote("a\nb") == "'a\\nb'"  # a log line stays one line
    assert quote(42) == "42"


def test_a_long_value_is_cut_and_says_how_long_it_was() -> None:
    text = quote("x" * (1 << 20))
    assert text == "'" + "x" * 64 + "'… (1048576 characters)"
    assert len(quote("y" * 500, limit=10)) < 40


@pytest.mark.parametrize(
    "value",
    [
        KEY,
        KEY.upper(),
        f"Bearer {KEY}",
        f"Bearer{KEY}",
        f"token=x{KEY}",
        f"{'z' * 60} {KEY}",
        f"{KEY} {KEY}",
        KEY[:20],
    ],
)
def test_a_key_is_never_shown_past_its_prefix(value: str) -> None:
    for text in (quote(value), invalid(f"bad: {value}").message, case_not_found(value).message):
        assert "S3cr3t" not in text.replace("S3CR3T", "S3cr3t"), text
    assert "ck_0a1b2c3d_…" in redact(KEY)


def test_redaction_leaves_other_text_alone() -> None:
    for text in ("CASE-123", "check_this_out", "ck__x", "stack_trace_id", "ck_short_x"):
        assert redact(text) == text


def test_every_message_is_bounded_in_bytes() -> None:
    for char in ("x", "é", "😀"):
        message = invalid(char * (1 << 20)).message
        assert len(message.encode()) <= MAX_MESSAGE
        assert message.endswith("…")
