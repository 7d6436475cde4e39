"""How the dispatcher classifies what a real receiver does: success, a retry after a backoff, a
retry when the receiver says, or a permanent failure (docs/NOTIFICATIONS.md, "Delivery") — and
that no error names the secret part of a Slack, Teams or Mattermost URL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from email.utils import formatdate

import pytest

from casekeeper.domain.notifications import ConnectorKind, Outcome, Retry
from casekeeper.outbound.notify import deliver_once
from tests.notify.receiver import Receiver, free_port
from tests.outbound.envelopes import envelope

TOKEN = "xoxTOKENa1b2c3d4e5f6g7h8"  # the secret part of a Slack incoming-webhook URL
SECRET_PATH = f"/services/T0001/B0002/{TOKEN}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def webhook(url: str, **options: float) -> Outcome:
    return deliver_once(envelope(ConnectorKind.WEBHOOK, url), **options)


def where(r: Receiver) -> str:
    return f"http://127.0.0.1:{r.port}"


def test_a_receiver_that_is_down_is_retried_after_a_backoff() -> None:
    port = free_port()  # bound and closed again: nothing listens there
    outcome = webhook(f"http://127.0.0.1:{port}/hook")
    assert (outcome.ok, outcome.retry, outcome.status_code) == (False, Retry.BACKOFF, None)
    assert outcome.error is not None
    assert outcome.error.startswith(f"connection to http://127.0.0.1:{port} ")


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_a_server_error_or_request_timeout_is_retried_after_a_backoff(
    receiver: Receiver, status: int
) -> None:
    receiver.status = status
    receiver.body = b"upstream is down"
    outcome = webhook(receiver.url)
    assert (outcome.ok, outcome.retry, outcome.status_code) == (False, Retry.BACKOFF, status)
    assert outcome.error == f"HTTP {status} from {where(receiver)}: upstream is down"


def test_a_slow_receiver_times_out_and_is_retried(receiver: Receiver) -> None:
    receiver.delay = 3.0
    started = time.monotonic()
    outcome = webhook(receiver.url, timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert (outcome.ok, outcome.retry) == (False, Retry.BACKOFF)
    assert outcome.error == f"timed out after 0.3s waiting for {where(receiver)}"
    assert 250 <= outcome.duration_ms < 2000


def test_429_with_retry_after_seconds_is_retried_when_the_receiver_says(
    receiver: Receiver,
) -> None:
    receiver.status = 429
    receiver.headers = {"Retry-After": "7"}
    outcome = webhook(receiver.url)
    assert (outcome.ok, outcome.retry, outcome.retry_after) == (False, Retry.AFTER, 7.0)
    assert outcome.status_code == 429
    assert outcome.error == f"HTTP 429 from {where(receiver)}: too many requests"


def test_429_with_retry_after_as_an_http_date(receiver: Receiver) -> None:
    receiver.status = 429
    receiver.headers = {"Retry-After": formatdate(time.time() + 30, usegmt=True)}
    outcome = webhook(receiver.url)
    assert outcome.retry == Retry.AFTER
    assert outcome.retry_after is not None
    assert 27.0 <= outcome.retry_after <= 30.0  # the date has whole seconds


@pytest.mark.parametrize("header", [None, "soon", ""])
def test_429_without_a_usable_retry_after_backs_off(receiver: Receiver, header: str | None) -> None:
    receiver.status = 429
    receiver.headers = {} if header is None else {"Retry-After": header}
    outcome = webhook(receiver.url)
    assert (outcome.ok, outcome.retry, outcome.retry_after) == (False, Retry.BACKOFF, None)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422, 301, 302])
def test_other_answers_fail_for_good(receiver: Receiver, status: int) -> None:
    receiver.status = status
    receiver.headers = {"Location": "http://127.0.0.1:9/elsewhere"}  # a redirect is not followed
    receiver.body = b'{"error": "no_service"}'
    outcome = webhook(receiver.url)
    assert (outcome.ok, outcome.retry, outcome.status_code) == (False, Retry.NO, status)
    assert outcome.error == f'HTTP {status} from {where(receiver)}: {{"error": "no_service"}}'
    assert receiver.seen.requests == 1


def test_a_long_error_body_is_cut(receiver: Receiver) -> None:
    receiver.status = 400
    receiver.body = b"e" * 10_000
    outcome = webhook(receiver.url)
    assert outcome.error == f"HTTP 400 from {where(receiver)}: " + "e" * 200


# -- the URL is the secret: no error shows it ----------------------------------------------------

Setup = Callable[[Receiver], None]


def answering(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Setup:
    def setup(r: Receiver) -> None:
        r.status, r.headers, r.body = status, headers or {}, body

    return setup


def stalled(r: Receiver) -> None:
    r.delay = 3.0


FAILURES: dict[str, Setup] = {
    "500": answering(500, body=b"internal error"),
    "timeout": stalled,
    "429 seconds": answering(429, {"Retry-After": "7"}),
    "429 date": answering(429, {"Retry-After": formatdate(time.time() + 30, usegmt=True)}),
    "429 bare": answering(429),
    "400": answering(400, body=b"invalid_payload"),
    "410": answering(410, body=b"channel_is_archived"),
    "408": answering(408),
    # An error page echoing the request line, as many frameworks' 404 does.
    "404 echo": answering(404, body=f"Cannot POST {SECRET_PATH}".encode()),
    "500 echo url": answering(500, body=f"upstream http://127.0.0.1{SECRET_PATH} failed".encode()),
}


@pytest.mark.parametrize("kind", [ConnectorKind.SLACK, ConnectorKind.TEAMS,
                                  ConnectorKind.MATTERMOST])  # fmt: skip
@pytest.mark.parametrize("failure", list(FAILURES))
def test_no_error_shows_the_token_of_a_secret_url(
    receiver: Receiver, kind: ConnectorKind, failure: str
) -> None:
    FAILURES[failure](receiver)
    outcome = deliver_once(envelope(kind, f"{where(receiver)}{SECRET_PATH}"), timeout=0.3)
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith(("HTTP", "timed out")), outcome.error
    assert where(receiver) in outcome.error
    assert TOKEN not in outcome.error
    assert "/services/" not in outcome.error


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:{port}", "hooks.example.test", "http://127.0.0.1:99999"],
    ids=["down", "no scheme", "bad port"],
)
def test_no_error_shows_the_token_when_the_url_cannot_be_reached(url: str) -> None:
    secret_url = url.format(port=free_port()) + SECRET_PATH
    outcome = deliver_once(envelope(ConnectorKind.SLACK, secret_url))
    assert (outcome.ok, outcome.retry) == (False, Retry.BACKOFF)
    assert outcome.error is not None
    assert TOKEN not in outcome.error
    assert "/services/" not in outcome.error
