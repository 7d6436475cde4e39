"""uvicorn's httptools protocol with the connection hygiene a server facing the network needs.

uvicorn closes idle keep-alive connections, but a connection that never finishes its headers
or its body stays open for ever, and it has no cap on open connections: 300 stalled sockets
under an open-files limit of 256 took both APIs down (they share the process). This protocol
adds, per connection:

- a **header timeout** from TCP accept (or from the end of the previous response) until the
  request's headers are complete; with TLS it covers the handshake (``tls_protocol``);
- a **body timeout** between body chunks, and a **body deadline**: the whole body must arrive
  within the body timeout plus one second per ``MIN_BODY_RATE`` bytes received (Apache's
  mod_reqtimeout ``MinRate``), so a body dripped a byte at a time cannot live for days;
- a **connection cap**: past it, connections are closed in this order: first those still in
  their handshake or headers and idle keep-alives (longest in that state first), then those
  still receiving a body (longest first), then the newcomer. A connection whose request was
  read whole (being processed or answered) is never shed. A shed request's app sees
  ``http.disconnect`` (499, nothing applied: the handler reads the body before any change);
- an answer that never hides an applied change: when a pipelined request is followed by bytes
  that are not HTTP, the request in flight finishes and its response is written first, then
  the 400, then the connection closes. Requests queued behind it that never started are dropped
  (not applied). uvicorn would write the 400 at once and lose the first response.
"""

from __future__ import annotations

import asyncio
import asyncio.sslproto
import itertools
import logging
import resource
import ssl
from collections.abc import Callable
from typing import Any, ClassVar

import httptools
import orjson
import uvloop
import uvloop.loop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr

from casekeeper.settings import Settings

log = logging.getLogger("casekeeper.http")

MAX_DERIVED_CONNECTIONS = 4096
# Why a request did not parse, most often: long queries belong in a POST body.
_UNPARSABLE = (
    "not HTTP/1.1, or its request line or headers are over 64 KiB "
    "(send long queries in a POST body)"
)
# Bytes per second a body must average past its first body timeout (Apache's default MinRate).
MIN_BODY_RATE = 500
_phases = itertools.count()


def connection_cap(configured: int) -> int:
    """``configured``, or with 0 half the open-files limit (the other half stays for gRPC, the
    database and the log), at most ``MAX_DERIVED_CONNECTIONS``."""
    if configured > 0:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_DERIVED_CONNECTIONS
    return max(8, min(MAX_DERIVED_CONNECTIONS, soft // 2))


class ThrottledLog:
    """At most one line per ``interval`` seconds, so a flood of connections cannot flood the
    log too; the next line says how many were left out."""

    def __init__(self, level: int, interval: float = 10.0) -> None:
        self.level = level
        self.interval = interval
        self._next = float("-inf")
        self._skipped = 0

    def __call__(self, now: float, message: str, *args: object) -> None:
        if now < self._next:
            self._skipped += 1
            return
        if self._skipped:
            message += " (%d more like it in the last %g s)"
            args = (*args, self._skipped, self.interval)
        self._skipped = 0
        self._next = now + self.interval
        log.log(self.level, message, *args)


_stalled_log = ThrottledLog(logging.INFO)
_cap_log = ThrottledLog(logging.WARNING)


class GuardedProtocol(HttpToolsProtocol):
    header_timeout: ClassVar[float] = 10.0
    body_timeout: ClassVar[float] = 30.0
    max_connections: ClassVar[int] = MAX_DERIVED_CONNECTIONS
    min_body_rate: ClassVar[float] = MIN_BODY_RATE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        # Shedding order: when the current phase (connect, idle, body) began. A count, not the
        # loop's clock, which moves in whole milliseconds: connections made within one would tie.
        self._since = 0
        self._body_started = 0.0
        self._body_received = 0
        self._bad_request: str | None = None
        self._handshaking = False

    # -- state ---------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A request on this connection has started (its headers are in)."""
        return self.cycle is not None and not self.cycle.response_complete

    @property
    def working(self) -> bool:
        """A request was read whole and is being processed or answered: never shed."""
        if self.pipeline or self._bad_request is not None:
            return True  # the request in flight ahead of a queued one was read whole
        cycle = self.cycle
        return (
            cycle is not None
            and not cycle.response_complete
            and (not cycle.more_body or cycle.response_started)
        )

    @property
    def receiving_body(self) -> bool:
        return self.busy and self.cycle.more_body and not self.working

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _start_body_clock(self) -> None:
        self._since = next(_phases)
        self._body_started = self.loop.time()
        self._body_received = 0
        self._arm(self.body_timeout)

    def _arm_body(self) -> None:
        """The sooner of the next chunk's timeout and the whole body's deadline."""
        now = self.loop.time()
        deadline = self._body_started + self.body_timeout + self._body_received / self.min_body_rate
        self._arm(max(0.0, min(self.body_timeout, deadline - now)))

    def _expired(self) -> None:
        self._timer = None
        if not self.transport.is_closing():
            _stalled_log(
                self.loop.time(), "closing an HTTP connection from %s: it stalled", self.client
            )
            self.transport.close()

    # -- connection ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if self._handshaking:  # TLS is up: the header clock from accept runs on
            self._handshaking = False
            super().connection_made(transport)
            return
        super().connection_made(transport)
        self._since = next(_phases)
        self._arm(self.header_timeout)
        self._shed()

    def tcp_accepted(self, raw: asyncio.Transport) -> None:
        """TLS: the TCP connection is in and its handshake starts (see ``tls_protocol``)."""
        self._handshaking = True
        self.connections.add(self)
        self.transport = raw  # until connection_made: what the cap and the clock close
        self.client = get_remote_addr(raw)
        self._since = next(_phases)
        self._arm(self.header_timeout)
        self._shed()

    def handshake_lost(self) -> None:
        """TLS: the TCP connection closed; the TLS layer tells the HTTP protocol only when
        the handshake had completed."""
        if self._handshaking:
            self._handshaking = False
            self._disarm()
            self.connections.discard(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _shed(self) -> None:
        if len(self.connections) <= self.max_connections:
            return  # the common case, without a walk over every connection
        open_ = [c for c in self.connections if not c.transport.is_closing()]
        excess = len(open_) - self.max_connections
        if excess <= 0:
            return
        # Handshakes, stalled headers and idle keep-alives first, then bodies still arriving
        # (an upload is worth more than a connection that has sent nothing), each longest in
        # that state first; a request read whole is never cut; the newcomer goes last.
        sheddable = sorted(
            (
                c
                for c in open_
                if isinstance(c, GuardedProtocol) and c is not self and not c.working
            ),
            key=lambda c: (c.receiving_body, c._since),
        )
        victims: list[Any] = sheddable[:excess]
        if len(victims) < excess:
            victims.append(self)  # every other connection is working: refuse the newcomer
        _cap_log(
            self.loop.time(),
            "HTTP connection cap %d reached: closing %d",
            self.max_connections,
            excess,
        )
        for conn in victims:
            conn.transport.close()

    # -- parsing -------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._bad_request is not None:
            return  # the connection ends once the request in flight has been answered
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            if self.pipeline or (self.busy and not self.cycle.more_body):
                # A request in flight was read whole and may change something: answer it
                # first, then the garbage, then close. Nothing queued behind it starts (the
                # garbage may be in a queued request's chunked body: that one is dropped too).
                self._bad_request = msg
                self.pipeline.clear()
                self._disarm()
                self.flow.pause_reading()
                return
            self.logger.warning(msg)
            self.send_400_response(msg)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def send_400_response(self, msg: str) -> None:
        """A request that does not parse (garbage, a request line or headers past the
        parser's 64 KiB): 400 with a JSON body every dialect's error schema accepts
        (``{"code", "message"}``), not uvicorn's plain text, then the connection closes."""
        self._disarm()
        body = orjson.dumps({"code": 400, "message": f"{msg.rstrip('.')}: {_UNPARSABLE}"})
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"x-casekeeper-error-code: request.invalid_argument\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.pipeline:
            # Queued behind a request in flight, with reading paused: its body cannot arrive
            # until that one is answered, so its clock starts then (on_response_complete).
            self._disarm()
        elif self.cycle is not None and self.cycle.more_body and self.parser is not None:
            self._start_body_clock()
        else:
            self._disarm()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if not self.pipeline:  # a queued request's clock starts when it does
            self._body_received += len(body)
            self._arm_body()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def on_response_complete(self) -> None:
        msg = self._bad_request
        if msg is not None:
            self.server_state.total_requests += 1
            self._bad_request = None
            if not self.transport.is_closing():
                self.send_400_response(msg)
            return
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if not self.busy:
            self._since = next(_phases)
            self._arm(self.header_timeout)
        elif self.cycle.more_body:
            self._start_body_clock()  # a queued request started: its body may flow now


def guarded_protocol(settings: Settings) -> type[GuardedProtocol]:
    """The protocol class for uvicorn's ``http=``, with ``settings``' limits."""
    return type(
        "CasekeeperHttpProtocol",
        (GuardedProtocol,),
        {
            "header_timeout": settings.http_header_timeout,
            "body_timeout": settings.http_body_timeout,
            "max_connections": connection_cap(settings.http_max_connections),
        },
    )


class _CountedHandshake:
    """The TLS layer of one connection, telling its HTTP protocol of the TCP connection at
    accept and of its loss before the handshake completed (which the layer keeps to itself).
    With uvicorn's ``ssl=`` to ``create_server`` the HTTP protocol hears of a connection only
    once its handshake is done: a client that never sends its ClientHello would be neither
    counted by the cap nor timed, for uvloop's 60 s each."""

    def __init__(self, loop: Any, app: GuardedProtocol, *args: Any, **kwargs: Any) -> None:
        super().__init__(loop, app, *args, **kwargs)  # type: ignore[call-arg]
        self.app = app

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]  # the handshake starts
        self.app.tcp_accepted(transport)  # may close it at once (the cap)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)  # type: ignore[misc]
        self.app.handshake_lost()


# uvloop's own TLS layer (what its create_server uses: Cython, with a fast path in its
# transports) when the loop is uvloop's; asyncio's, the same design, otherwise.
_UVLOOP_TLS: Any = uvloop.loop.SSLProtocol  # type: ignore[attr-defined]  # not in its stubs
_UvloopTls = type("_UvloopTls", (_CountedHandshake, _UVLOOP_TLS), {})
_AsyncioTls = type("_AsyncioTls", (_CountedHandshake, asyncio.sslproto.SSLProtocol), {})


def tls_protocol(
    create: Callable[[], GuardedProtocol], context: ssl.SSLContext, handshake_timeout: float
) -> Callable[[], asyncio.BaseProtocol]:
    """A protocol factory for ``create_server`` (without its ``ssl=``): ``create``'s HTTP
    protocol behind TLS from ``context``, counted by the cap and timed from accept."""
    loop = asyncio.get_running_loop()
    layer = _UvloopTls if isinstance(loop, uvloop.Loop) else _AsyncioTls

    def factory() -> asyncio.BaseProtocol:
        tls: asyncio.BaseProtocol = layer(
            loop, create(), context, None, server_side=True, ssl_handshake_timeout=handshake_timeout
        )
        return tls

    return factory
