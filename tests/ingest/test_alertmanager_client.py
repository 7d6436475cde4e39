"""The Alertmanager API v2 client against the real Alertmanager, and what it does when the
other end is not one: every such failure is ``AlertmanagerUnavailable`` (the sync then changes
nothing), never a wrong answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from casekeeper.domain.timeutil import now_us
from casekeeper.outbound.alertmanager import AlertmanagerClient
from casekeeper.service.alertmanager_sync import AlertmanagerUnavailable
from tests.api.coralogix.rest.conftest import RunningServer
from tests.ingest.alertmanager_harness import (
    Alertmanager,
    casekeeper_http,
    free_port,
    needs_alertmanager,
    start_alertmanager,
)
from tests.ingest.am_world import fingerprint

__all__ = ["casekeeper_http"]  # fixtures used by name

HOUR = 3_600_000_000
LABELS = {"alertname": "Replication", "service": "db", "instance": "db3"}


@pytest.fixture
def client() -> Iterator[AlertmanagerClient]:
    c = AlertmanagerClient()
    yield c
    c.close()


@pytest.fixture
def lone_am(tmp_path: Path) -> Iterator[Alertmanager]:
    """An Alertmanager whose webhook goes nowhere (a closed port): only its API is used."""
    am = start_alertmanager(tmp_path / "am", f"http://127.0.0.1:{free_port()}/hook", "unused")
    yield am
    am.stop()


@needs_alertmanager
def test_alerts_and_silences_round_trip(lone_am: Alertmanager, client: AlertmanagerClient) -> None:
    lone_am.fire(LABELS)
    (alert,) = client.alerts(lone_am.url)
    assert alert.fingerprint == fingerprint(LABELS)
    assert dict(alert.labels) == LABELS
    assert alert.state == "active"
    assert alert.silenced_by == ()
    fired = lone_am.started[frozenset(LABELS.items())]
    # API v2 shows startsAt to the millisecond.
    assert alert.starts_at // 1000 == int(fired.timestamp() * 1_000_000) // 1000

    now = now_us()
    sid = client.create_silence(lone_am.url, LABELS, now, now + HOUR, "casekeeper", "a test")
    (alert,) = client.alerts(lone_am.url)
    assert alert.silenced_by == (sid,)
    assert client.alerts(lone_am.url, silenced=False) == []
    (silence,) = client.silences(lone_am.url)
    assert (silence.id, silence.state, dict(silence.matchers)) == (sid, "active", LABELS)
    assert (silence.created_by, silence.comment) == ("casekeeper", "a test")

    # Renewing an active silence with a new start: Alertmanager may answer a new id.
    renewed = client.create_silence(
        lone_am.url, LABELS, now + 1000, now + 2 * HOUR, "casekeeper", "a test", silence_id=sid
    )
    live = [s for s in client.silences(lone_am.url) if s.state == "active"]
    assert [s.id for s in live] == [renewed]
    assert live[0].ends_at >= now + 2 * HOUR - 1000

    client.expire_silence(lone_am.url, renewed)
    client.expire_silence(lone_am.url, renewed)  # twice is fine
    client.expire_silence(lone_am.url, str(uuid.uuid4()))  # one it never knew is fine too
    assert all(s.state == "expired" for s in client.silences(lone_am.url))


def test_nothing_listening_is_unavailable(client: AlertmanagerClient) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AlertmanagerUnavailable) as err:
        client.alerts(url)
    assert err.value.url == url
    assert "ConnectError" in err.value.reason


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "not a url", "file:///etc/passwd"])
def test_only_http_urls_are_called(client: AlertmanagerClient, url: str) -> None:
    with pytest.raises(AlertmanagerUnavailable, match="not an http"):
        client.alerts(url)


def test_a_server_that_is_not_alertmanager_is_unavailable(
    client: AlertmanagerClient, casekeeper_http: RunningServer
) -> None:
    # casekeeper's own server has no /api/v2/alerts: a 404 without "not found" semantics for
    # silences, and no list of alerts.
    with pytest.raises(AlertmanagerUnavailable, match="answered 40"):
        client.alerts(casekeeper_http.url)
    with pytest.raises(AlertmanagerUnavailable):
        client.silences(casekeeper_http.url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9093/?x=/api/v2/silences/1#", "query or fragment"),
        ("http://127.0.0.1:9093/#", "query or fragment"),
        ("http://admin:hunter2@127.0.0.1:9093/", "credentials"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]:9093/", "link-local"),
        ("http://127.0.0.1:99999/", "bad port"),
    ],
)
def test_an_external_url_cannot_steer_the_call(
    client: AlertmanagerClient, url: str, why: str
) -> None:
    """The URL comes from a webhook: it must not pick another path, method or host class, and
    its credentials never reach a message."""
    with pytest.raises(AlertmanagerUnavailable, match=why) as err:
        client.alerts(url)
    assert "hunter2" not in str(err.value)
    assert "?" not in err.value.url


def test_a_path_prefix_is_kept(lone_am: Alertmanager, client: AlertmanagerClient) -> None:
    from casekeeper.outbound.alertmanager import api_base

    assert api_base("http://am.example:9093/alertmanager/") == (
        "http://am.example:9093/alertmanager/api/v2"
    )
    assert client.alerts(lone_am.url + "/") == client.alerts(lone_am.url)
