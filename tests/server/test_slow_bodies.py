"""Bodies that drip, on a real ``casekeeper serve``: under the connection cap they are shed
(after stalled headers and idle connections, before the newcomer is refused), and without cap
pressure their deadline closes them; either way the change they carry is not applied (499)."""

from __future__ import annotations

import socket
import time

import httpx

from tests.server.conftest import Serve, Served, closed_by_server


def _active_case(served: Served) -> str:
    got = httpx.post(
        f"http://{served.http}/cases/cases/v1",
        json={"filters": {"statuses": ["CASE_STATUS_ACTIVE"]}, "pagination": {"pageSize": 1}},
        headers={"authorization": f"Bearer {served.key}"},
        timeout=5,
    ).json()["cases"]
    case_id: str = got[0]["id"]
    return case_id


def _status(served: Served, case_id: str) -> str:
    got = httpx.get(
        f"http://{served.http}/cases/cases/v1/{case_id}",
        headers={"authorization": f"Bearer {served.key}"},
        timeout=5,
    ).json()
    return str(got["case"]["status"])


def _connect(served: Served) -> socket.socket:
    host, port = served.http.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=5)


def _drip(served: Served, case_id: str) -> socket.socket:
    """A close of ``case_id`` announcing a 1,000,000-byte body, of which one byte is sent.
    Returns once the server has read the headers and the handler waits for the body (it
    sent ``100 Continue``): the connection is then receiving a body, not yet working."""
    s = _connect(served)
    s.sendall(
        f"POST /cases/closed/v1/{case_id} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {served.key}\r\nContent-Length: 1000000\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, f"closed before 100 Continue: {data!r}"
        data += chunk
    assert data.startswith(b"HTTP/1.1 100 "), data
    s.sendall(b"x")
    return s


def _stall(served: Served) -> socket.socket:
    s = _connect(served)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finish
    return s


def _healthz(served: Served) -> bytes:
    """GET /healthz on a new connection the server closes after answering (so that it is
    not counted any more once this returns)."""
    with _connect(served) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def _wait_for_log(served: Served, text: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in served.output():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{served.output()[-3000:]}"
        time.sleep(0.05)


def test_dripping_bodies_are_shed_for_a_newcomer_after_stalled_headers(serve: Serve) -> None:
    served = serve(
        env={"CASEKEEPER_HTTP_MAX_CONNECTIONS": "4", "CASEKEEPER_HTTP_BODY_TIMEOUT": "60"},
        demo=True,
    )
    case_id = _active_case(served)
    a, b, c, d = (_drip(served, case_id) for _ in range(4))
    stalled = None
    try:
        # every slot holds a dripping body: the oldest one goes, the newcomer is answered
        assert _healthz(served).startswith(b"HTTP/1.1 200 ")
        assert closed_by_server(a), served.output()[-3000:]
        assert not any(closed_by_server(x) for x in (b, c, d))
        _wait_for_log(served, f"POST /cases/closed/v1/{case_id} -> 499")  # nothing ran

        # a stalled header goes before any body, though every body is older
        stalled = _stall(served)
        assert _healthz(served).startswith(b"HTTP/1.1 200 ")
        assert closed_by_server(stalled)
        assert not any(closed_by_server(x) for x in (b, c, d))
    finally:
        for x in (a, b, c, d, stalled):
            if x is not None:
                x.close()
    assert _status(served, case_id) == "CASE_STATUS_ACTIVE"


def test_a_body_dripping_under_the_body_timeout_is_closed_by_its_deadline(
    serve: Serve,
) -> None:
    served = serve(env={"CASEKEEPER_HTTP_BODY_TIMEOUT": "1"}, demo=True)
    case_id = _active_case(served)
    with _drip(served, case_id) as s:
        started = time.monotonic()
        closed = False
        while not closed and time.monotonic() - started < 8:
            try:
                s.sendall(b"x")  # a byte every 0.3 s: each well within the body timeout
            except OSError:
                closed = True
            closed = closed or closed_by_server(s, wait=0.3)
        elapsed = time.monotonic() - started
    # the deadline: 1 s (the body timeout) plus 1 s per 500 bytes received
    assert closed, "the dripping body was never closed"
    assert elapsed < 3, elapsed
    _wait_for_log(served, f"POST /cases/closed/v1/{case_id} -> 499")
    assert _status(served, case_id) == "CASE_STATUS_ACTIVE"
