"""The HTTP protocol's clocks in-process, with an ASGI app that takes as long as a test needs
(a real handler's timing cannot be chosen): a request pipelined behind a slow one is given its
body timeout from when it starts, not from when its headers were read while it waited; a slow
but steady body outlives the body timeout."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvicorn

from casekeeper.api.http.protocol import guarded_protocol
from casekeeper.settings import Settings

SLOW = 0.8  # seconds /slow takes
BODY_TIMEOUT = 0.3


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    """Echo the body; /slow first sleeps."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(SLOW)
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    settings = Settings(database_url="unused", http_body_timeout=BODY_TIMEOUT)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=guarded_protocol(settings), lifespan="off",
        log_config=None, access_log=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    bound: int = server.servers[0].sockets[0].getsockname()[1]
    yield bound
    server.should_exit = True
    thread.join(10)


def _pipelined(port: int) -> tuple[socket.socket, bytes]:
    """GET /slow, then a POST whose body (6 bytes) has only its first half sent; returns the
    socket once the first response is in, with what was read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(
        b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc"
    )
    data = b""
    while b"HTTP/1.1 200" not in data:
        chunk = s.recv(65536)
        if not chunk:
            s.close()
            pytest.fail(f"closed before the first response: {data!r}")
        data += chunk
    return s, data


def test_a_queued_request_gets_its_body_timeout_from_its_start(port: int) -> None:
    s, data = _pipelined(port)  # SLOW > BODY_TIMEOUT: the wait does not count
    with s:
        time.sleep(BODY_TIMEOUT / 3)
        s.sendall(b"def")
        while b"abcdef" not in data:
            chunk = s.recv(65536)
            assert chunk, f"closed before the second response: {data!r}"
            data += chunk
    assert data.count(b"HTTP/1.1 200") == 2


def test_a_queued_request_that_stalls_its_body_is_closed(port: int) -> None:
    s, _ = _pipelined(port)
    with s:
        started = time.monotonic()
        s.settimeout(5)
        while s.recv(65536):
            pass
        assert time.monotonic() - started < BODY_TIMEOUT + 1


def test_a_steady_body_outlasting_the_body_timeout_is_read_whole(port: int) -> None:
    # 1,500 bytes at 1,000 bytes/s: past BODY_TIMEOUT in all, but above the minimum rate the
    # body deadline grows faster than the clock (1 s per 500 bytes received)
    body = bytes(range(100)) * 15
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for i in range(0, len(body), 100):
            s.sendall(body[i : i + 100])
            time.sleep(0.1)
        data = b""
        while not data.endswith(body):
            chunk = s.recv(65536)
            assert chunk, f"closed before the response: {data!r}"
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 ")
