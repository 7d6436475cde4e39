"""REST errors never carry a caller's input unbounded nor an API key (issue 10, item 3)."""

from __future__ import annotations

import logging
import time

import pytest

from tests.api.coralogix.rest.conftest import Rest, error_message
from tests.conftest import MakeCase, assert_quiet_logs, secret

MiB = "x" * (1 << 20)
LONG_PATH_PART = "x" * 60_000  # a URL stays under httpx's limit (65,536 characters)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="casekeeper")
    caplog.set_level(logging.DEBUG, logger="casekeeper.access")  # the path of every request
    return caplog


def short(body: object, status: int = 400) -> str:
    message = error_message(body, status)
    assert len(message.encode()) < 1024, f"{len(message)} characters: {message[:200]}..."
    return message


def wait_for_log(logs: pytest.LogCaptureFixture, text: str) -> None:
    """The access log line is written after the response has been sent: wait for it."""
    deadline = time.monotonic() + 5
    while not any(text in r.getMessage() for r in logs.records):
        assert time.monotonic() < deadline, f"no log line with {text!r}"
        time.sleep(0.01)


def test_a_megabyte_assignee_is_400_with_a_short_message(
    rest: Rest, make_case: MakeCase, logs: pytest.LogCaptureFixture
) -> None:
    case = make_case()
    body = rest.call("AssignCase", case.id, json={"assignee": {"userId": MiB}}, expect=400)
    assert "assignee.userId" in short(body)
    assert_quiet_logs(logs, "x" * 100)


def test_a_long_event_id_is_400_with_a_short_message(
    rest: Rest, logs: pytest.LogCaptureFixture
) -> None:
    body = rest.call("GetEvent", LONG_PATH_PART, expect=400)
    assert "event_id" in short(body)
    wait_for_log(logs, "/cases/events/v1/xxx")
    assert_quiet_logs(logs, "x" * 300)


def test_a_megabyte_attachment_id_is_400_with_a_short_message(
    rest: Rest, make_case: MakeCase
) -> None:
    attachment = {"file": {"fileId": MiB, "fileName": "a.txt"}}
    body = rest.call(
        "CreateComment",
        make_case().id,
        json={"text": "see the file", "attachments": [attachment]},
        expect=400,
    )
    assert "fileId" in short(body)


def test_a_megabyte_enum_name_is_400_with_a_short_message(rest: Rest) -> None:
    body = rest.call("ListCases", json={"filters": {"statuses": [MiB]}}, expect=400)
    assert "statuses" in short(body)


def test_an_api_key_sent_as_a_case_id_is_never_echoed(
    rest: Rest, logs: pytest.LogCaptureFixture
) -> None:
    assert rest.key is not None
    for rpc in ("GetCase", "AcknowledgeCase"):
        body = rest.call(rpc, rest.key, expect=400)
        message = short(body)
        assert secret(rest.key) not in message
        assert f"ck_{rest.key.split('_')[1]}_…" in message
    body = rest.call("GetEvent", rest.key, expect=400)
    assert secret(rest.key) not in short(body)
    wait_for_log(logs, f"/cases/events/v1/ck_{rest.key.split('_')[1]}_…")
    assert_quiet_logs(logs, secret(rest.key))


def test_a_key_or_long_text_in_an_enum_field_is_quoted_short(rest: Rest) -> None:
    assert rest.key is not None
    for body in (
        {"orderBy": {"field": rest.key}},
        {"orderBy": {"field": "f" * 5000}},
        {"filters": {"statuses": [rest.key]}},
    ):
        message = short(rest.call("ListCases", json=body, expect=400))
        assert secret(rest.key) not in message
        assert "f" * 100 not in message
        assert "CASE_" in message  # it still says what is accepted
