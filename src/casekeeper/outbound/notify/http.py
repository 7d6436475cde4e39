"""The dispatcher: one attempt per envelope, over one keep-alive connection pool (aiohttp: on
loopback it sends several times more requests per second than httpx's async client, which the
delivery rate needs; docs/PERFORMANCE.md), or over SMTP for e-mail.

Never raises for what a receiver does: a refused connection, a timeout, a 5xx are outcomes,
classified for the worker's retry rule (docs/NOTIFICATIONS.md). Error texts name a receiver by
scheme and host only, and quote its error page without the secret: a Slack or Teams URL is
itself the secret.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
import orjson

from casekeeper.domain.notifications import (
    URL_IS_SECRET,
    ConnectorKind,
    Envelope,
    Outcome,
    Retry,
)
from casekeeper.domain.notify_templates import TemplateError
from casekeeper.outbound.notify import formats
from casekeeper.outbound.notify.email import send_email

BODY_SHOWN: Final = 200  # characters of a receiver's error body kept in the message
MIN_HIDDEN: Final = 8  # shorter parts of a secret URL ("/", "services") are not credentials
MAX_ERROR: Final = 4096


def where(url: str) -> str:
    """A URL as errors show it: scheme, host and port, nothing that could be a credential."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    try:
        port = parts.port
    except ValueError:  # a secret URL from the environment is not checked when saved
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def hidden(env: Envelope, url: str) -> tuple[str, ...]:
    """What an error must not show, longest first: the secret, and for a URL that is one its
    path, query and their longer parts (an error page may echo the request line)."""
    found = {env.secret or ""}
    if env.connector.kind in URL_IS_SECRET:
        parts = urlsplit(url)
        found |= {parts.path, parts.query, *parts.path.split("/"), *re.split("[&=]", parts.query)}
    return tuple(sorted((p for p in found if len(p) >= MIN_HIDDEN), key=len, reverse=True))


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify(status: int, body: str, shown: str, location: str | None) -> Outcome:
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status, evidence_url=location)
    text = f"HTTP {status} from {shown}" + (f": {body[:BODY_SHOWN]}" if body.strip() else "")
    if status >= 500 or status == 408:
        return Outcome(ok=False, error=text, retry=Retry.BACKOFF, status_code=status)
    return Outcome(ok=False, error=text, retry=Retry.NO, status_code=status)


class NotificationDispatcher:
    """Implements ``service.notify_ports.Deliverer``; one per event loop."""

    def __init__(
        self,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        max_connections: int = 100,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(total=timeout, connect=connect_timeout)
        self._max_connections = max_connections
        self.ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=60,
                                             ssl=self.ssl_context or True)  # fmt: skip
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._client_timeout, auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),
            )  # fmt: skip
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, envelope: Envelope) -> Outcome:
        started = time.perf_counter()
        try:
            outcome = await self._deliver(envelope)
        except TemplateError as exc:
            outcome = Outcome(ok=False, error=f"template failed: {exc}", retry=Retry.NO)
        ms = int((time.perf_counter() - started) * 1000)
        error = None if outcome.error is None else outcome.error[:MAX_ERROR]
        return Outcome(outcome.ok, error, outcome.evidence_url, outcome.retry,
                       outcome.retry_after, outcome.status_code, ms)  # fmt: skip

    async def _deliver(self, env: Envelope) -> Outcome:
        conn = env.connector
        if conn.kind == ConnectorKind.EMAIL:
            return await asyncio.to_thread(send_email, env, self.timeout, self.ssl_context)
        url = env.secret if conn.kind in URL_IS_SECRET else conn.url
        if not url:
            return Outcome(ok=False, error="the connector has no URL", retry=Retry.NO)
        if conn.kind == ConnectorKind.WEBHOOK:
            headers, body = formats.webhook(env, int(time.time()))
        else:
            body = orjson.dumps(formats.json_body(env))
            headers = {"Content-Type": "application/json", "User-Agent": formats.USER_AGENT,
                       "Idempotency-Key": env.delivery_id}  # fmt: skip
        return await self._post(url, headers, body, hidden(env, url))

    async def _post(self, url: str, headers: dict[str, str], body: bytes,
                    secrets: tuple[str, ...]) -> Outcome:  # fmt: skip
        shown = where(url)
        try:
            async with self._http().post(url, data=body, headers=headers,
                                         allow_redirects=False) as resp:  # fmt: skip
                text = ""
                if not 200 <= resp.status < 300:
                    raw = await resp.content.read(4096)
                    text = raw.decode("utf-8", "replace")
                    for secret in secrets:
                        text = text.replace(secret, "…")
                else:
                    await resp.read()
                if resp.status == 429:
                    after = retry_after(resp.headers.get("Retry-After"))
                    return Outcome(ok=False, error=f"HTTP 429 from {shown}: too many requests",
                                   retry=Retry.AFTER if after is not None else Retry.BACKOFF,
                                   retry_after=after, status_code=429)  # fmt: skip
                return classify(resp.status, text, shown, resp.headers.get("Location"))
        except TimeoutError:
            return _failed(f"timed out after {self.timeout:g}s waiting for {shown}")
        except aiohttp.ClientConnectorError as exc:
            why = exc.os_error.strerror if exc.os_error and exc.os_error.strerror else "failed"
            return _failed(f"connection to {shown} {why.lower()}")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return _failed(f"{type(exc).__name__} talking to {shown}")


def _failed(error: str) -> Outcome:
    return Outcome(ok=False, error=error, retry=Retry.BACKOFF)


def deliver_once(envelope: Envelope, **options: Any) -> Outcome:
    """One attempt from synchronous code, with a dispatcher of its own."""

    async def once() -> Outcome:
        d = NotificationDispatcher(**options)
        try:
            return await d.deliver(envelope)
        finally:
            await d.aclose()

    return asyncio.run(once())
