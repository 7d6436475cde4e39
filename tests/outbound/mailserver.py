"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent, and a self-signed
certificate for its STARTTLS."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.notify.receiver import free_port

USER, PASSWORD = "casekeeper", "s3cret-smtp-password"


@dataclass(frozen=True)
class Received:
    mail_from: str | None
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None  # who logged in, if anyone


@dataclass
class Mailbox:
    """An aiosmtpd handler: refuses the ``refused`` recipients with 550, answers DATA with
    ``data_reply`` when set, and keeps every message it accepts."""

    refused: set[str] = field(default_factory=set)
    data_reply: str | None = None
    received: list[Received] = field(default_factory=list)
    mechanisms: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:  # fmt: skip
        if address in self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data if session.authenticated else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed,
                                      session.ssl is not None, login))  # fmt: skip
        return "250 2.0.0 queued"

    def authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     auth_data: Any) -> AuthResult:  # fmt: skip
        self.mechanisms.append(mechanism)
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) \
            == (USER.encode(), PASSWORD.encode())  # fmt: skip
        return AuthResult(success=ok, handled=False, auth_data=USER if ok else None)


@contextmanager
def smtp_server(mailbox: Mailbox, **options: Any) -> Iterator[int]:
    """An SMTP server for ``mailbox`` on 127.0.0.1, its port; ``options`` go to aiosmtpd's SMTP
    (``tls_context``, ``require_starttls``, ``authenticator``, ``auth_require_tls``…)."""
    port = free_port()  # aiosmtpd 1.4.6 cannot report the port it got for port=0
    controller = Controller(mailbox, hostname="127.0.0.1", port=port,
                            server_hostname="mail.example.test", **options)  # fmt: skip
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only, and checks the host name as the worker does."""
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed(folder: Path) -> Certificate:
    """A certificate for 127.0.0.1 and localhost, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "casekeeper test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost"),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    paths = Certificate(folder / "smtp.crt", folder / "smtp.key")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))  # fmt: skip
    return paths
