"""A real HTTP/1.1 receiver on loopback for delivery tests and the delivery benchmark: keep-alive,
answers at once (or after ``delay``, with ``status``), and counts every request by its
``X-Casekeeper-Delivery`` and ``X-Casekeeper-Attempt`` headers. ``headers`` are added to every
answer (``Retry-After``) and ``body`` is its body (an error page that echoes the request).

In a test: ``with Receiver() as r: ... r.url``. As a process (the benchmark, so the receiver
does not share the worker's interpreter): ``python tests/notify/receiver.py --port P``;
``GET /stats`` answers the counts as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType


@dataclass
class Seen:
    requests: int = 0
    by_delivery: Counter[str] = field(default_factory=Counter)
    by_attempt: Counter[tuple[str, str]] = field(default_factory=Counter)
    bodies: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)  # beside ``bodies``, one per request
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {
                "requests": self.requests,
                "distinct": len(self.by_delivery),
                "repeated": sum(n - 1 for n in self.by_delivery.values() if n > 1),
                "same_attempt_twice": sum(1 for n in self.by_attempt.values() if n > 1),
            }


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: Receiver) -> None:
        self.owner = owner
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.owner.open.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.owner.open.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            lines = self.buf[:head_end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            size = int(headers.get("content-length", "0"))
            if len(self.buf) < head_end + 4 + size:
                return
            body = self.buf[head_end + 4 : head_end + 4 + size]
            self.buf = self.buf[head_end + 4 + size :]
            method, path = lines[0].split(" ")[:2]
            self.owner.handle(self, method, path, headers, body)

    def answer(self, status: int, body: bytes, extra: str = "") -> None:
        if self.transport is None or self.transport.is_closing():
            return
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: text/plain\r\n{extra}\r\n"
        )
        self.transport.write(head.encode() + body)


class Receiver:
    def __init__(self, *, record_bodies: bool = False, port: int = 0) -> None:
        self.seen = Seen()
        self.status = 200
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        self.body = b"ok"
        self.record_bodies = record_bodies
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self.open: set[asyncio.Transport] = set()  # closed on exit, on the receiver's loop

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def handle(self, proto: _Protocol, method: str, path: str, headers: dict[str, str],
               body: bytes) -> None:  # fmt: skip
        if method == "GET" and path == "/stats":
            proto.answer(200, json.dumps(self.seen.stats()).encode())
            return
        delivery = headers.get("x-casekeeper-delivery", "")
        attempt = headers.get("x-casekeeper-attempt", "")
        s = self.seen
        with s.lock:
            s.requests += 1
            s.by_delivery[delivery] += 1
            s.by_attempt[(delivery, attempt)] += 1
            if self.record_bodies:
                s.bodies.append((path, headers, body))
                s.methods.append(method)
        extra = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        if self.delay:
            self._loop.call_later(self.delay, proto.answer, self.status, self.body, extra)
        else:
            proto.answer(self.status, self.body, extra)

    async def _start(self) -> None:
        self._server = await self._loop.create_server(
            lambda: _Protocol(self), "127.0.0.1", self.port, reuse_address=True, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for transport in list(self.open):
            transport.close()
        await asyncio.sleep(0)  # their connection_lost runs

    def __enter__(self) -> Receiver:
        self._loop.run_until_complete(self._start())
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        # Keep-alive connections are closed here, before the loop stops: left to the garbage
        # collector they warn (ResourceWarning) in whichever test runs next.
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    r = Receiver(port=port)
    r._loop.run_until_complete(r._start())
    r._loop.run_forever()


if __name__ == "__main__":
    main()
