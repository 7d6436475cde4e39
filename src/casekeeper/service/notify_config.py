"""A space's connectors: create, change, list, delete, and send a test notification.

Every input is checked here, whatever the caller (gRPC, REST, CLI), with fields named as in
``ConnectorInput``. A connector's secret goes in sealed (service/secrets.py) and never comes
out of any method here: adapters show ``Connector.secret.shown`` ("stored", "env:VAR").
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import urlsplit

from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.ids import uuid7
from casekeeper.domain.notifications import (
    MAX_RECIPIENTS,
    MAX_URL,
    PAGERDUTY_EVENTS_URL,
    URL_IS_SECRET,
    Connector,
    ConnectorKind,
    EmailOptions,
    Envelope,
    Outcome,
    SecretRef,
    Trigger,
    WebhookOptions,
    check_name,
)
from casekeeper.domain.notify_templates import compile_template
from casekeeper.service.auth import Principal
from casekeeper.service.context import ServiceContext
from casekeeper.service.notify_ports import DelivererFactory
from casekeeper.service.notify_samples import test_view
from casekeeper.service.permissions import Permission
from casekeeper.service.secrets import SecretBox, SecretUnavailable
from casekeeper.store.uow import UnitOfWork

READ: Final = (Permission.NOTIFICATIONS_READ,)
MANAGE: Final = (Permission.NOTIFICATIONS_MANAGE,)
MAX_CONNECTORS = 200
MAX_HEADERS = 20
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,255}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
_ADDRESS = re.compile(r"^[^@\s<>,;]{1,64}@[^@\s<>,;]{1,255}$")
_RESERVED_HEADERS = ("idempotency-key", "x-casekeeper-", "content-length", "host")


@dataclass(frozen=True, slots=True)
class ConnectorInput:
    """A create (``kind`` and ``name`` required) or an update (``None`` keeps the value)."""

    name: str | None = None
    kind: str | None = None
    url: str | None = None
    secret: str | None = None
    secret_env: str | None = None
    clear_secret: bool = False
    smtp: str | None = None  # "host:port"
    sender: str | None = None
    recipients: tuple[str, ...] | None = None
    starttls: bool | None = None
    username: str | None = None
    body_template: str | None = None  # "" clears
    header_templates: tuple[tuple[str, str], ...] | None = None
    enabled: bool | None = None


def connector_not_found(ref: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.CONNECTOR_NOT_FOUND, f"Connector not found: {quote(ref)}")


def find_connector(uow: UnitOfWork, space_id: int, ref: str) -> Connector:
    """A connector by id, or by name (the CLI's convenience)."""
    found = uow.connectors.get(space_id, ref) or uow.connectors.by_name(space_id, ref)
    if found is None:
        raise connector_not_found(ref)
    return found


def _kind(raw: str) -> ConnectorKind:
    try:
        return ConnectorKind(raw.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in ConnectorKind)
        raise invalid(
            f"unknown connector type {quote(raw)}; one of {kinds}", field="type"
        ) from None


def check_url(raw: str, field: str = "url") -> str:
    url = raw.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"an http(s) URL of at most {MAX_URL} characters, got {quote(raw)}",
                      field=field)  # fmt: skip
    if parts.username is not None or parts.password is not None:
        raise invalid("credentials in a URL are not accepted; give them as the secret",
                      field=field)  # fmt: skip
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise invalid(f"a bad port in {quote(raw)}", field=field) from None
    return url


def _smtp(raw: str) -> tuple[str, int]:
    host, sep, port = raw.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise invalid(f"an SMTP server as HOST:PORT, got {quote(raw)}", field="smtp")
    return host.strip("[]"), int(port)


def _address(raw: str, field: str) -> str:
    if not _ADDRESS.match(raw.strip()):
        raise invalid(f"an e-mail address, got {quote(raw)}", field=field)
    return raw.strip()


def _headers(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    if len(pairs) > MAX_HEADERS:
        raise invalid(f"at most {MAX_HEADERS} header templates", field="header_templates")
    for i, (name, value) in enumerate(pairs):
        where = f"header_templates[{i}]"
        low = name.lower()
        if not _HEADER_NAME.match(name) or any(low.startswith(r) for r in _RESERVED_HEADERS):
            raise invalid(f"{quote(name)} is not a header name a template may set", field=where)
        compile_template(value, where)
    return pairs


class ConnectorService:
    def __init__(
        self, ctx: ServiceContext, secrets: SecretBox, deliverers: DelivererFactory
    ) -> None:
        self.ctx = ctx
        self.secrets = secrets
        self.deliverers = deliverers

    def create(self, p: Principal, inp: ConnectorInput) -> Connector:
        p.require(MANAGE, "create a connector")
        if inp.kind is None:
            raise invalid("a connector needs a type", field="type")
        if inp.name is None:
            raise invalid("a connector needs a name", field="name")
        now = self.ctx.clock()
        kind = _kind(inp.kind)
        blank = Connector(
            id=uuid7(now), space_id=p.space_id, name="", kind=kind, url=None,
            secret=SecretRef(), create_time=now, update_time=now,
        )  # fmt: skip
        made = self._apply(blank, inp, now)
        with self.ctx.db.writer() as uow:
            if len(uow.connectors.in_space(p.space_id)) >= MAX_CONNECTORS:
                raise invalid(f"a space has at most {MAX_CONNECTORS} connectors")
            self._unique(uow, made)
            uow.connectors.add(made)
            uow.commit()
        return made

    def update(self, p: Principal, ref: str, inp: ConnectorInput) -> Connector:
        p.require(MANAGE, "change a connector")
        if inp.kind is not None:
            raise invalid("a connector's type cannot change; make a new one", field="type")
        with self.ctx.db.writer() as uow:
            old = find_connector(uow, p.space_id, ref)
            now = self.ctx.clock()
            new = self._apply(old, inp, now)
            self._unique(uow, new)
            uow.connectors.save(new)
            uow.commit()
        return new

    def delete(self, p: Principal, ref: str) -> None:
        p.require(MANAGE, "delete a connector")
        with self.ctx.db.writer() as uow:
            found = find_connector(uow, p.space_id, ref)
            users = uow.routes.using(p.space_id, found.id)
            if users:
                names = ", ".join(quote(r.name) for r in users[:5])
                raise CasekeeperError(
                    ErrorCode.IN_USE,
                    f"connector {quote(found.name)} is used by routes {names}: change or "
                    "delete them first",
                )
            uow.connectors.delete(p.space_id, found.id)
            uow.commit()

    def get(self, p: Principal, ref: str) -> Connector:
        p.require(READ, "read connectors")
        with self.ctx.db.reader() as uow:
            return find_connector(uow, p.space_id, ref)

    def list_connectors(self, p: Principal) -> list[Connector]:
        p.require(READ, "read connectors")
        with self.ctx.db.reader() as uow:
            return uow.connectors.in_space(p.space_id)

    def test(self, p: Principal, ref: str) -> Outcome:
        """Send a test notification now, outside the ledger, and say how it went."""
        p.require(MANAGE, "send a test notification")
        conn = self.get(p, ref)
        try:
            secret = self.secrets.open(conn.secret)
        except SecretUnavailable as exc:
            return Outcome(ok=False, error=str(exc))
        now = self.ctx.clock()
        env = Envelope(uuid7(now), 1, conn, secret, test_view(conn, self.ctx.ui_base_url, now))

        async def send() -> Outcome:
            deliverer = self.deliverers()
            try:
                return await deliverer.deliver(env)
            finally:
                await deliverer.aclose()

        return asyncio.run(send())

    # -- checking input ----------------------------------------------------------------------

    @staticmethod
    def _unique(uow: UnitOfWork, c: Connector) -> None:
        other = uow.connectors.by_name(c.space_id, c.name)
        if other is not None and other.id != c.id:
            raise CasekeeperError(ErrorCode.ALREADY_EXISTS,
                                  f"a connector named {quote(c.name)} exists")  # fmt: skip

    def _apply(self, base: Connector, inp: ConnectorInput, now: int) -> Connector:
        kind = base.kind
        name = base.name if inp.name is None else check_name(inp.name, "connector")
        secret = self._secret(base.secret, inp, kind)
        url = base.url
        if inp.url is not None:
            checked = check_url(inp.url)
            if kind in URL_IS_SECRET:
                secret = self.secrets.seal(checked, "url")
                url = None
            else:
                url = checked
        if kind == ConnectorKind.PAGERDUTY and url is None:
            url = PAGERDUTY_EVENTS_URL
        email = self._email(base.email, inp) if kind == ConnectorKind.EMAIL else None
        webhook = self._webhook(base.webhook, inp) if kind == ConnectorKind.WEBHOOK else None
        if kind != ConnectorKind.WEBHOOK and (inp.body_template or inp.header_templates):
            raise invalid("body and header templates are for webhook connectors",
                          field="body_template")  # fmt: skip
        if kind == ConnectorKind.WEBHOOK and url is None:
            raise invalid("a webhook connector needs --url", field="url")
        if kind in URL_IS_SECRET and not secret.present:
            raise invalid(f"a {kind} connector needs its webhook URL (--url, or --secret-env "
                          "naming a variable holding it)", field="url")  # fmt: skip
        if kind == ConnectorKind.PAGERDUTY and not secret.present:
            raise invalid("a pagerduty connector needs its integration (routing) key as the "
                          "secret", field="secret")  # fmt: skip
        if kind == ConnectorKind.EMAIL and (inp.url is not None):
            raise invalid("an e-mail connector takes --smtp, not --url", field="url")
        return replace(
            base, name=name, url=url, secret=secret, email=email, webhook=webhook,
            enabled=base.enabled if inp.enabled is None else inp.enabled, update_time=now,
        )  # fmt: skip

    def _secret(self, old: SecretRef, inp: ConnectorInput, kind: ConnectorKind) -> SecretRef:
        given = [x for x in (inp.secret, inp.secret_env) if x is not None]
        if len(given) > 1 or (given and inp.clear_secret):
            raise invalid("give one of a secret, a secret variable, or clearing it",
                          field="secret")  # fmt: skip
        if inp.clear_secret:
            return SecretRef()
        if inp.secret_env is not None:
            if not _ENV_NAME.match(inp.secret_env):
                raise invalid(f"{quote(inp.secret_env)} is not an environment variable name",
                              field="secret_env")  # fmt: skip
            return SecretRef(env=inp.secret_env)
        if inp.secret is not None:
            value = inp.secret.strip()
            if kind in URL_IS_SECRET:
                value = check_url(value, "secret")
            return self.secrets.seal(value)
        return old

    @staticmethod
    def _email(old: EmailOptions | None, inp: ConnectorInput) -> EmailOptions:
        host, port = (old.smtp_host, old.smtp_port) if old else ("", 0)
        if inp.smtp is not None:
            host, port = _smtp(inp.smtp)
        sender = old.sender if old and inp.sender is None else _address(inp.sender or "", "from")
        recipients = old.recipients if old and inp.recipients is None else tuple(
            _address(r, f"to[{i}]") for i, r in enumerate(inp.recipients or ())
        )  # fmt: skip
        if not host:
            raise invalid("an e-mail connector needs --smtp HOST:PORT", field="smtp")
        if not recipients or len(recipients) > MAX_RECIPIENTS:
            raise invalid(f"an e-mail connector needs 1 to {MAX_RECIPIENTS} recipients",
                          field="to")  # fmt: skip
        starttls = (old.starttls if old else False) if inp.starttls is None else inp.starttls
        username = old.username if old and inp.username is None else (inp.username or None)
        return EmailOptions(host, port, sender, recipients, starttls, username)

    @staticmethod
    def _webhook(old: WebhookOptions | None, inp: ConnectorInput) -> WebhookOptions:
        body = old.body_template if old else None
        if inp.body_template is not None:
            body = inp.body_template or None
            if body is not None:
                compile_template(body, "body_template")
        headers = old.header_templates if old else ()
        if inp.header_templates is not None:
            headers = _headers(inp.header_templates)
        return WebhookOptions(body, headers)


def known_triggers() -> str:
    return ", ".join(t.value for t in Trigger if t != Trigger.TEST)
