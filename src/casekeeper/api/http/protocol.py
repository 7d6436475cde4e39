"""uvicorn's httptools protocol with the connection hygiene a server facing the network needs.

uvicorn closes idle keep-alive connections, but a connection that never finishes its headers
or its body stays open for ever, and it has no cap on open connections: 300 stalled sockets
under an open-files limit of 256 took both APIs down (they share the process). This protocol
adds, per connection:

- a **header timeout** from connect (or from the end of the previous response) until the
  request's headers are complete, and a **body timeout** between body chunks;
- a **connection cap**: past it, the oldest *unfinished* connections (still sending headers, or
  idle between requests) are closed first; a connection whose request is being processed is
  never shed, and when every connection is busy the new one is closed instead;
- an answer that never hides an applied change: when a pipelined request is followed by bytes
  that are not HTTP, the request in flight finishes and its response is written first, then
  the 400, then the connection closes. Requests queued behind it that never started are dropped
  (not applied). uvicorn would write the 400 at once and lose the first response.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from casekeeper.settings import Settings

log = logging.getLogger("casekeeper.http")

MAX_DERIVED_CONNECTIONS = 4096


def connection_cap(configured: int) -> int:
    """``configured``, or with 0 half the open-files limit (the other half stays for gRPC, the
    database and the log), at most ``MAX_DERIVED_CONNECTIONS``."""
    if configured > 0:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_DERIVED_CONNECTIONS
    return max(8, min(MAX_DERIVED_CONNECTIONS, soft // 2))


class GuardedProtocol(HttpToolsProtocol):
    header_timeout: ClassVar[float] = 10.0
    body_timeout: ClassVar[float] = 30.0
    max_connections: ClassVar[int] = MAX_DERIVED_CONNECTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._opened = 0.0
        self._bad_request: str | None = None

    # -- state ---------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A request on this connection is being processed (its headers are in)."""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if not self.transport.is_closing():
            log.info("closing an HTTP connection from %s: it stalled", self.client)
            self.transport.close()

    # -- connection ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = self.loop.time()
        self._arm(self.header_timeout)
        self._shed()

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
        idle = sorted(
            (c for c in open_ if isinstance(c, GuardedProtocol) and not c.busy and c is not self),
            key=lambda c: c._opened,
        )
        victims: list[Any] = idle[:excess]
        if len(victims) < excess:
            victims.append(self)  # every other connection is working: refuse the newcomer
        log.warning("HTTP connection cap %d reached: closing %d", self.max_connections, excess)
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
        self._disarm()
        super().send_400_response(msg)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.pipeline:
            # Queued behind a request in flight, with reading paused: its body cannot arrive
            # until that one is answered, so its clock starts then (on_response_complete).
            self._disarm()
        elif self.cycle is not None and self.cycle.more_body and self.parser is not None:
            self._arm(self.body_timeout)
        else:
            self._disarm()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if not self.pipeline:  # a queued request's clock starts when it does
            self._arm(self.body_timeout)

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
            self._arm(self.header_timeout)
        elif self.cycle.more_body:
            self._arm(self.body_timeout)  # a queued request started: its body may flow now


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
