"""A small client for Prometheus Alertmanager's API v2: the alerts it holds, and silences.

It implements ``service.alertmanager_sync.AlertmanagerApi``. Every failure (no connection, a
timeout, a 5xx, an answer that is not what API v2 returns) is ``AlertmanagerUnavailable``: the
service then changes nothing, because an Alertmanager it cannot read says nothing about alerts.
Timeouts are short: the calls run on the schedule's thread, one Alertmanager after another.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, urlsplit

import httpx

from casekeeper.domain.errors import CasekeeperError
from casekeeper.domain.model import Micros
from casekeeper.domain.timeutil import parse_rfc3339, to_rfc3339
from casekeeper.service.alertmanager_api import (
    AlertmanagerUnavailable,
    AmAlert,
    AmSilence,
)
from casekeeper.service.alertmanager_api import shown_url as shown

TIMEOUT: Final = httpx.Timeout(5.0, connect=2.0)
USER_AGENT: Final = "casekeeper-alertmanager-sync"
_ERROR_TEXT: Final = 200  # characters of an error body kept in the message


def api_base(base_url: str) -> str:
    """``<external URL>/api/v2``, rebuilt from the URL's scheme, host, port and path only; an
    external URL may carry a path prefix (``/alertmanager``). The URL comes from webhook
    payloads, so only plain http(s) addresses are called: one with credentials, a query or a
    fragment (which could steer the call to another path) is refused, and so is a link-local
    address (cloud metadata services live there)."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AlertmanagerUnavailable(shown(base_url), "not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise AlertmanagerUnavailable(shown(base_url), "credentials in the URL are not used")
    if parts.query or parts.fragment or "?" in base_url or "#" in base_url:
        raise AlertmanagerUnavailable(shown(base_url), "a URL with a query or fragment")
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        address = None
    if address is not None and address.is_link_local:
        raise AlertmanagerUnavailable(shown(base_url), "a link-local address is not called")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise AlertmanagerUnavailable(shown(base_url), "a bad port") from None
    return shown(base_url).rstrip("/") + "/api/v2"


class AlertmanagerClient:
    """Sync, one connection pool for every Alertmanager it talks to; ``close()`` releases it."""

    def __init__(self, *, timeout: httpx.Timeout = TIMEOUT, transport: Any = None) -> None:
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"user-agent": USER_AGENT},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    # -- alerts ------------------------------------------------------------------------------

    def alerts(
        self,
        base_url: str,
        *,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
    ) -> list[AmAlert]:
        params = {
            "active": _flag(active),
            "silenced": _flag(silenced),
            "inhibited": _flag(inhibited),
            "unprocessed": "true",
        }
        body = self._call(base_url, "GET", "/alerts", params=params)
        if not isinstance(body, list):
            raise AlertmanagerUnavailable(base_url, "GET /api/v2/alerts did not answer a list")
        return [_alert(base_url, item) for item in body]

    def started(self, base_url: str) -> Micros:
        """When this Alertmanager process started (``GET /api/v2/status``, ``uptime``)."""
        body = self._call(base_url, "GET", "/status")
        if not isinstance(body, dict):
            raise AlertmanagerUnavailable(base_url, "GET /api/v2/status did not answer an object")
        return _time(base_url, body.get("uptime"), "uptime")

    # -- silences ----------------------------------------------------------------------------

    def silences(self, base_url: str) -> list[AmSilence]:
        body = self._call(base_url, "GET", "/silences")
        if not isinstance(body, list):
            raise AlertmanagerUnavailable(base_url, "GET /api/v2/silences did not answer a list")
        return [_silence(base_url, item) for item in body]

    def create_silence(
        self,
        base_url: str,
        matchers: Mapping[str, str],
        starts: Micros,
        ends: Micros,
        created_by: str,
        comment: str,
        *,
        silence_id: str | None = None,
    ) -> str:
        """Post a silence (equality matchers, one per label) and return its id. With
        ``silence_id`` it updates that silence; Alertmanager may answer a new id (it does when
        the old one has expired), which then replaces the old one."""
        body: dict[str, Any] = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in sorted(matchers.items())
            ],
            "startsAt": to_rfc3339(starts),
            "endsAt": to_rfc3339(ends),
            "createdBy": created_by,
            "comment": comment,
        }
        if silence_id:
            body["id"] = silence_id
        answer = self._call(base_url, "POST", "/silences", json=body)
        new_id = answer.get("silenceID") if isinstance(answer, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise AlertmanagerUnavailable(base_url, "POST /api/v2/silences answered no silenceID")
        return new_id

    def expire_silence(self, base_url: str, silence_id: str) -> None:
        """Expire a silence; one Alertmanager no longer knows (its retention dropped it, or
        its storage was reset) is as good as expired."""
        path = f"/silence/{quote(silence_id, safe='')}"
        try:
            self._call(base_url, "DELETE", path)
        except _NotFound:
            return

    # -- plumbing ----------------------------------------------------------------------------

    def _call(self, base_url: str, method: str, path: str, **kw: Any) -> Any:
        url = api_base(base_url) + path
        try:
            response = self._http.request(method, url, **kw)
        except httpx.HTTPError as err:
            raise AlertmanagerUnavailable(base_url, f"{method} {path}: {_describe(err)}") from None
        text = response.text
        # 0.25 answers 500 "silence not found" for an unknown id; newer releases answer 404.
        if (
            method == "DELETE"
            and response.status_code in (404, 500)
            and "not found" in text.lower()
        ):
            raise _NotFound(base_url, f"{method} {path}: not found")
        if response.status_code >= 300:
            raise AlertmanagerUnavailable(
                base_url,
                f"{method} {path} answered {response.status_code}: {text[:_ERROR_TEXT]!r}",
            )
        if not text.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise AlertmanagerUnavailable(base_url, f"{method} {path}: not JSON") from None


class _NotFound(AlertmanagerUnavailable):
    pass


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _describe(err: httpx.HTTPError) -> str:
    kind = type(err).__name__
    text = str(err)
    return f"{kind}: {text[:_ERROR_TEXT]}" if text else kind


def _strings(base_url: str, value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise AlertmanagerUnavailable(base_url, f"{what} is not a map of strings")
    return dict(value)


def _time(base_url: str, value: object, what: str) -> Micros:
    if not isinstance(value, str):
        raise AlertmanagerUnavailable(base_url, f"{what} is missing")
    try:
        return parse_rfc3339(value, field=what)
    except CasekeeperError:
        raise AlertmanagerUnavailable(base_url, f"{what} is not a timestamp") from None


def _alert(base_url: str, item: object) -> AmAlert:
    if not isinstance(item, dict):
        raise AlertmanagerUnavailable(base_url, "an alert is not an object")
    fingerprint = item.get("fingerprint")
    status = item.get("status")
    if not isinstance(fingerprint, str) or not isinstance(status, dict):
        raise AlertmanagerUnavailable(base_url, "an alert lacks its fingerprint or status")
    silenced_by = status.get("silencedBy") or []
    inhibited_by = status.get("inhibitedBy") or []
    if not isinstance(silenced_by, list) or not isinstance(inhibited_by, list):
        raise AlertmanagerUnavailable(base_url, "an alert's status is malformed")
    return AmAlert(
        fingerprint=fingerprint,
        starts_at=_time(base_url, item.get("startsAt"), "startsAt"),
        labels=_strings(base_url, item.get("labels"), "labels"),
        state=str(status.get("state", "")),
        silenced_by=tuple(str(s) for s in silenced_by),
        inhibited_by=tuple(str(s) for s in inhibited_by),
    )


def _silence(base_url: str, item: object) -> AmSilence:
    if not isinstance(item, dict):
        raise AlertmanagerUnavailable(base_url, "a silence is not an object")
    status = item.get("status")
    matchers = item.get("matchers")
    if not isinstance(status, dict) or not isinstance(matchers, list):
        raise AlertmanagerUnavailable(base_url, "a silence lacks its status or matchers")
    pairs: dict[str, str] = {}
    for m in matchers:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            raise AlertmanagerUnavailable(base_url, "a silence matcher is malformed")
        if m.get("isRegex") or m.get("isEqual") is False:
            continue  # not one of casekeeper's (it only makes equality matchers)
        pairs[m["name"]] = str(m.get("value", ""))
    return AmSilence(
        id=str(item.get("id", "")),
        state=str(status.get("state", "")),
        matchers=pairs,
        starts_at=_time(base_url, item.get("startsAt"), "startsAt"),
        ends_at=_time(base_url, item.get("endsAt"), "endsAt"),
        created_by=str(item.get("createdBy", "")),
        comment=str(item.get("comment", "")),
    )
