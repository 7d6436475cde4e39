"""The e-mail connector against a real SMTP server (aiosmtpd on loopback): the message, STARTTLS
with a certificate of the test's own, AUTH with the secret as the password, and how SMTP's
answers are classified."""

from __future__ import annotations

import html
import socket
import ssl
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from casekeeper.domain.notifications import ConnectorKind, EmailOptions, Envelope, Outcome, Retry
from casekeeper.outbound.notify import deliver_once
from tests.notify.receiver import free_port
from tests.outbound.envelopes import LINK, envelope, view
from tests.outbound.mailserver import (
    PASSWORD,
    USER,
    Certificate,
    Mailbox,
    self_signed,
    smtp_server,
)

TO = ("oncall@example.test", "db-team@example.test")
TITLE = '[P2] CASE-12: <script>alert("x")</script> & more'
TEXT = "CASE-12 acknowledged by alice: Disk <full> & more\nStatus ACKNOWLEDGED"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def plain_server(mailbox: Mailbox) -> Iterator[int]:
    with smtp_server(mailbox) as port:
        yield port


def mail(
    port: int,
    *,
    starttls: bool = False,
    username: str | None = None,
    secret: str | None = None,
    attempt: int = 1,
    to: tuple[str, ...] = TO,
) -> Envelope:
    options = EmailOptions(smtp_host="127.0.0.1", smtp_port=port, sender="casekeeper@example.test",
                           recipients=to, starttls=starttls, username=username)  # fmt: skip
    return envelope(ConnectorKind.EMAIL, "", secret=secret, attempt=attempt, email=options,
                    notification=view(title=TITLE, text=TEXT))  # fmt: skip


def send(env: Envelope, **options: Any) -> Outcome:
    return deliver_once(env, timeout=options.pop("timeout", 5.0), **options)


def test_one_message_to_every_recipient_in_text_and_escaped_html(
    plain_server: int, mailbox: Mailbox
) -> None:
    outcome = send(mail(plain_server))
    assert (outcome.ok, outcome.status_code, outcome.error) == (True, 250, None)
    (got,) = mailbox.received
    assert got.mail_from == "casekeeper@example.test"
    assert got.rcpt_tos == list(TO)
    assert (got.tls, got.login) == (False, None)
    msg = got.message
    assert msg["Subject"] == TITLE
    assert msg["From"] == "casekeeper@example.test"
    assert msg["To"] == "oncall@example.test, db-team@example.test"
    assert msg["Message-ID"] == "<d-1@casekeeper>"
    assert msg["X-Casekeeper-Delivery"] == "d-1"
    assert msg["X-Casekeeper-Event"] == "acknowledged"
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    plain, page = msg.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().replace("\r\n", "\n") == (
        f"{TEXT}\n\nStatus: ACKNOWLEDGED\nPriority: P2\nCategory: AVAILABILITY\n"
        f"Assignee: alice, bob\n\n{LINK}\n"
    )
    assert page.get_content_type() == "text/html"
    body: str = page.get_content()
    assert html.escape(TEXT).replace("\n", "<br>") in body
    assert "<full>" not in body
    assert "<th align='left'>Assignee</th><td>alice, bob</td>" in body
    assert f'<a href="{LINK}">Open case</a>' in body


def test_every_attempt_carries_the_same_message_id(plain_server: int, mailbox: Mailbox) -> None:
    for attempt in (1, 2):
        assert send(mail(plain_server, attempt=attempt)).ok
    assert [r.message["Message-ID"] for r in mailbox.received] == ["<d-1@casekeeper>"] * 2


def test_starttls_with_a_trusted_certificate(certificate: Certificate, mailbox: Mailbox) -> None:
    tls = {"tls_context": certificate.server_context(), "require_starttls": True}
    with smtp_server(mailbox, **tls) as port:
        outcome = send(mail(port, starttls=True), ssl_context=certificate.client_context())
        assert outcome.ok, outcome
        assert [r.tls for r in mailbox.received] == [True]

        untrusted = send(mail(port, starttls=True))  # the system's CAs do not know it
        assert (untrusted.ok, untrusted.retry) == (False, Retry.BACKOFF)
        assert untrusted.error is not None
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.error

        plain = send(mail(port))  # the server insists on STARTTLS
        assert (plain.ok, plain.retry, plain.status_code) == (False, Retry.NO, 530)
    assert len(mailbox.received) == 1


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(
    plain_server: int, mailbox: Mailbox
) -> None:
    outcome = send(mail(plain_server, starttls=True), ssl_context=ssl.create_default_context())
    assert not outcome.ok
    assert outcome.error == f"SMTP 127.0.0.1:{plain_server}: STARTTLS extension not supported by " \
        "server."  # fmt: skip
    assert outcome.retry == Retry.NO  # the server's configuration; trying again will not help
    assert mailbox.received == []


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_logs_in_with_the_username_and_the_secret(mailbox: Mailbox, mechanism: str) -> None:
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    auth = {"authenticator": mailbox.authenticate, "auth_require_tls": False,
            "auth_exclude_mechanism": [other]}  # fmt: skip
    with smtp_server(mailbox, **auth) as port:
        assert send(mail(port, username=USER, secret=PASSWORD)).ok
        wrong = send(mail(port, username=USER, secret="not-the-password"))
    assert mailbox.mechanisms == [mechanism, mechanism]
    assert [r.login for r in mailbox.received] == [USER]
    assert (wrong.ok, wrong.retry, wrong.status_code) == (False, Retry.NO, 535)
    assert wrong.error is not None
    assert "not-the-password" not in wrong.error


def test_auth_after_starttls(certificate: Certificate, mailbox: Mailbox) -> None:
    options = {"tls_context": certificate.server_context(), "require_starttls": True,
               "authenticator": mailbox.authenticate, "auth_required": True}  # fmt: skip
    with smtp_server(mailbox, **options) as port:
        outcome = send(mail(port, starttls=True, username=USER, secret=PASSWORD),
                       ssl_context=certificate.client_context())  # fmt: skip
    assert outcome.ok, outcome
    assert [(r.tls, r.login) for r in mailbox.received] == [(True, USER)]


def test_every_recipient_refused_is_a_permanent_failure(
    plain_server: int, mailbox: Mailbox
) -> None:
    mailbox.refused = set(TO)
    outcome = send(mail(plain_server))
    assert (outcome.ok, outcome.retry, outcome.status_code) == (False, Retry.NO, 550)
    assert outcome.error == f"127.0.0.1:{plain_server} refused every recipient"
    assert mailbox.received == []


def test_some_recipients_refused_is_delivered_and_names_them(
    plain_server: int, mailbox: Mailbox
) -> None:
    mailbox.refused = {"db-team@example.test"}
    outcome = send(mail(plain_server))
    assert (outcome.ok, outcome.status_code) == (True, 250)
    assert outcome.error == f"127.0.0.1:{plain_server} refused db-team@example.test"
    assert [r.rcpt_tos for r in mailbox.received] == [["oncall@example.test"]]


def test_a_temporary_smtp_failure_is_retried(plain_server: int, mailbox: Mailbox) -> None:
    mailbox.data_reply = "451 4.3.0 mailbox busy, try later"
    outcome = send(mail(plain_server))
    assert (outcome.ok, outcome.retry, outcome.status_code) == (False, Retry.BACKOFF, 451)
    assert outcome.error == f"SMTP 451 from 127.0.0.1:{plain_server}: 4.3.0 mailbox busy, " \
        "try later"  # fmt: skip


def test_a_permanent_smtp_failure_is_not_retried(plain_server: int, mailbox: Mailbox) -> None:
    mailbox.data_reply = "554 5.7.1 rejected as spam"
    outcome = send(mail(plain_server))
    assert (outcome.ok, outcome.retry, outcome.status_code) == (False, Retry.NO, 554)


def test_a_server_that_is_down_is_retried() -> None:
    port = free_port()
    outcome = send(mail(port))
    assert (outcome.ok, outcome.retry) == (False, Retry.BACKOFF)
    assert outcome.error == f"SMTP 127.0.0.1:{port}: Connection refused"


def test_a_server_that_never_greets_times_out_and_is_retried() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) but never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        outcome = send(mail(port), timeout=0.3)
    assert (outcome.ok, outcome.retry) == (False, Retry.BACKOFF)
    assert outcome.error == f"timed out after 0.3s talking to 127.0.0.1:{port}"


def test_a_connector_without_email_settings_fails_for_good() -> None:
    env = mail(free_port())
    env = replace(env, connector=replace(env.connector, email=None))
    outcome = send(env)
    assert (outcome.ok, outcome.retry) == (False, Retry.NO)
