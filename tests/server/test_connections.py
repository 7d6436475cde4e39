"""HTTP connection hygiene on a real ``casekeeper serve``: stalled connections are closed after
the header timeout, a flood of them under an open-files limit of 256 takes down neither API,
a pipelined request's answer is never hidden by a malformed request behind it."""

from __future__ import annotations

import re
import socket
import time

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.server.conftest import Serve, closed_by_server, healthz, limit_open_files


def _stall(address: str, count: int) -> list[socket.socket]:
    host, port = address.rsplit(":", 1)
    out = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finish
        out.append(s)
    return out


def test_a_flood_of_stalled_connections_leaves_both_apis_answering(serve: Serve) -> None:
    served = serve(env={"CASEKEEPER_HTTP_HEADER_TIMEOUT": "3"}, preexec=limit_open_files)
    stalled = _stall(served.http, 300)
    try:
        # the cap (half of 256) sheds the oldest stalled connections; new requests get through
        assert healthz(f"http://{served.http}") == 200
        with grpc.insecure_channel(served.grpc) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert check.status == health_pb2.HealthCheckResponse.SERVING
        shed = sum(closed_by_server(s) for s in stalled)
        assert shed >= 300 - 128
        time.sleep(4)  # past the header timeout: every stalled connection is closed
        assert all(closed_by_server(s) for s in stalled)
        assert healthz(f"http://{served.http}") == 200
    finally:
        for s in stalled:
            s.close()
    assert served.process.poll() is None


def test_a_slow_body_is_closed_after_the_body_timeout(serve: Serve) -> None:
    served = serve(env={"CASEKEEPER_HTTP_BODY_TIMEOUT": "1"})
    host, port = served.http.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            b"POST /cases/cases/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + served.key.encode() + b"\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        started = time.monotonic()
        s.settimeout(10)
        while s.recv(4096):
            pass  # whatever the server says, it must then close
        assert time.monotonic() - started < 5


# Bytes that are not HTTP after the queued request, or a malformed chunk in the queued
# request's own body (the parser fails while that request is queued, not in flight).
GARBAGE = {
    "not http": b"\x00\x01 this is not HTTP\r\n\r\n",
    "bad chunk": b"POST /cases/cases/v1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"\r\nZZZ\r\n",
}


@pytest.mark.parametrize("garbage", GARBAGE.values(), ids=GARBAGE.keys())
def test_a_pipelined_change_is_answered_before_the_garbage_behind_it(
    serve: Serve, garbage: bytes
) -> None:
    served = serve(demo=True)
    url = f"http://{served.http}"
    auth = {"authorization": f"Bearer {served.key}"}
    active = httpx.post(
        f"{url}/cases/cases/v1",
        json={"filters": {"statuses": ["CASE_STATUS_ACTIVE"]}, "pagination": {"pageSize": 2}},
        headers=auth,
        timeout=5,
    ).json()["cases"]
    first, queued = active[0]["id"], active[1]["id"]
    host, port = served.http.rsplit(":", 1)

    def ack(case_id: str) -> bytes:
        return (
            f"PUT /cases/acknowledged/v1/{case_id} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {served.key}\r\nContent-Length: 0\r\n\r\n"
        ).encode()

    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(ack(first) + ack(queued) + garbage)
        s.settimeout(10)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", data) == [b"200", b"400"], data[:2000]

    def status(case_id: str) -> str:
        got = httpx.get(f"{url}/cases/cases/v1/{case_id}", headers=auth, timeout=5).json()
        return str(got["case"]["status"])

    assert status(first) == "CASE_STATUS_ACKNOWLEDGED"  # applied, and its answer arrived
    assert status(queued) == "CASE_STATUS_ACTIVE"  # queued behind it: dropped, not applied


def test_a_bad_chunk_on_a_bodiless_change_applies_nothing(serve: Serve) -> None:
    served = serve(demo=True)
    url = f"http://{served.http}"
    auth = {"authorization": f"Bearer {served.key}"}
    (case,) = httpx.post(
        f"{url}/cases/cases/v1",
        json={"filters": {"statuses": ["CASE_STATUS_ACTIVE"]}, "pagination": {"pageSize": 1}},
        headers=auth,
        timeout=5,
    ).json()["cases"]
    host, port = served.http.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(
            f"POST /cases/closed/v1/{case['id']} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {served.key}\r\nTransfer-Encoding: chunked\r\n\r\n"
            "ZZZ\r\n".encode()
        )
        s.settimeout(10)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", data) == [b"400"], data[:500]
    time.sleep(0.5)  # the handler, had it run on, would have closed the case by now
    got = httpx.get(f"{url}/cases/cases/v1/{case['id']}", headers=auth, timeout=5).json()
    assert got["case"]["status"] == "CASE_STATUS_ACTIVE"
