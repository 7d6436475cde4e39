"""API keys: creation, verification, revocation, and the per-request principal.

A key reads ``ck_<prefix>_<secret>``. The database keeps the prefix (indexed) and the SHA-256
of the whole key; verification compares digests in constant time. The plaintext is returned
once, at creation. Verified keys are cached briefly so a request costs no database trip;
revocation in this process takes effect at once, in other processes within ``CACHE_SECONDS``.
The API adapters look in the cache on their event loop and verify a miss on a worker thread
(``authenticate_async``): on PostgreSQL a verification waits for a pooled connection and the
network, up to the pool timeout when every connection is busy, and would stall every call.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Final

from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.domain.events import Actor
from casekeeper.service import validation
from casekeeper.service.permissions import Permission, parse_permission, permissions_of_scopes
from casekeeper.store.keys import (
    ApiKeyRow as ApiKeyRow,  # re-exported: adapters see rows through the service
)
from casekeeper.store.uow import Database

log = logging.getLogger("casekeeper.auth")
CACHE_SECONDS = 5.0
TOUCH_SECONDS = 60.0
DEFAULT_SPACE = "default"
_SPACE_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    key_name: str
    space_id: int
    space_name: str
    permissions: frozenset[Permission]
    # The person at the machine (the CLI): every permission, in every space.
    operator: bool = False
    # A logged-in user's id (docs/USERS.md); None for an API key.
    user: str | None = None

    @property
    def actor(self) -> Actor:
        if self.user is not None:
            return Actor.user(self.user)
        return Actor.api_key(self.key_id, self.key_name)

    @property
    def user_id(self) -> str:
        """Who this is where an API names a user (an incident's ``assignedBy``): the user's id,
        or the key's."""
        return self.user or self.key_id

    def require(self, needed: Iterable[Permission], doing: str) -> None:
        """Raise PERMISSION_DENIED, naming every missing permission, unless this principal
        holds all of ``needed`` for ``doing`` (``"change a case"``)."""
        missing = [p.value for p in needed if p not in self.permissions]
        if missing:
            names = " and ".join(repr(m) for m in missing)
            plural = "s" if len(missing) > 1 else ""
            raise CasekeeperError(
                ErrorCode.PERMISSION_DENIED,
                f"this {'user' if self.user else 'API key'} lacks the permission{plural} "
                f"{names} needed to {doing}",
                detail={"missing": tuple(missing)},
            )


# Acts for whoever runs the server's machine (CLI, demo data, benchmarks): no key, no space.
OPERATOR: Final = Principal(
    key_id="operator",
    key_name="operator",
    space_id=0,
    space_name="",
    permissions=frozenset(Permission),
    operator=True,
)


@dataclass(frozen=True, slots=True)
class NewKey:
    row: ApiKeyRow
    key: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _unauthenticated(why: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.UNAUTHENTICATED, why)


def _token(authorization: str | None) -> str:
    """The key in an ``Authorization: Bearer <key>`` value (the bare key is accepted too)."""
    if not authorization:
        raise _unauthenticated("missing API key: send the header 'Authorization: Bearer <key>'")
    token = authorization.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


def normalize_space(name: str) -> str:
    text = name.strip().lower()
    if not 1 <= len(text) <= 64 or not set(text) <= _SPACE_OK:
        raise invalid("space: use 1..64 characters from a-z, 0-9, '-' and '_'")
    return text


def parse_permissions(names: Iterable[str]) -> tuple[Permission, ...]:
    out: list[Permission] = []
    for name in names:
        perm = parse_permission(name)
        if perm is None:
            known = ", ".join(p.value for p in Permission)
            raise invalid(f"unknown permission {quote(name)}; known permissions: {known}")
        if perm not in out:
            out.append(perm)
    if not out:
        raise invalid("an API key needs at least one permission")
    return tuple(out)


def check_grant(grantor: Principal, perms: Iterable[Permission], space: str) -> None:
    """A key may grant at most what it holds, in its own space: ``api-key:Manage`` alone must
    not mint a key that closes cases."""
    if space != grantor.space_name:
        raise CasekeeperError(
            ErrorCode.PERMISSION_DENIED, "an API key can create keys in its own space only"
        )
    beyond = [p.value for p in perms if p not in grantor.permissions]
    if beyond:
        raise CasekeeperError(
            ErrorCode.PERMISSION_DENIED,
            f"this API key may not grant {', '.join(beyond)}: "
            "a key can grant at most the permissions it holds",
        )


class KeyService:
    def __init__(self, db: Database, clock: Callable[[], int]) -> None:
        self.db = db
        self.clock = clock
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._touched: dict[str, float] = {}
        # One thread writes last-use times, in the order they were recorded.
        self._toucher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="key-touch")
        self._pending: Future[None] | None = None
        self._lock = threading.Lock()
        # Bumped by every revocation: a verification that read its key before a revocation
        # finished must not cache what it read (the revoked key would live on for a while).
        self._revocations = 0

    def create(
        self,
        *,
        name: str,
        permissions: Iterable[str],
        space: str = DEFAULT_SPACE,
        granted_by: Principal,
        scopes: Iterable[str] = (),
    ) -> NewKey:
        """A new key, granted by a key holding ``api-key:Manage`` (over the API: at most what
        it holds, in its own space) or by ``OPERATOR`` (anything, anywhere). ``scopes`` are
        Tracecat's (``case:update``), each standing for the permissions in ``SCOPES``."""
        granted_by.require((Permission.API_KEY_MANAGE,), "create API keys")
        name = validation.text(name, field="name", max_len=256)
        try:
            from_scopes = permissions_of_scopes(scopes)
        except ValueError as err:
            raise invalid(str(err), field="scopes") from None
        perms = parse_permissions([*permissions, *from_scopes])
        space = normalize_space(space)
        if not granted_by.operator:
            check_grant(granted_by, perms, space)
        prefix = secrets.token_hex(4)
        key = f"ck_{prefix}_{secrets.token_urlsafe(32)}"
        now = self.clock()
        with self.db.writer() as uow:
            space_id = uow.spaces.ensure(space, now)
            row = ApiKeyRow(
                id=str(uuid.uuid4()),
                space_id=space_id,
                space_name=space,
                name=name,
                prefix=prefix,
                secret_hash=_digest(key),
                permissions=tuple(p.value for p in perms),
                create_time=now,
                revoke_time=None,
                last_used_time=None,
            )
            uow.keys.add(row)
            uow.commit()
        return NewKey(row, key)

    def list(
        self, p: Principal, *, space: str | None = None, include_revoked: bool = False
    ) -> list[ApiKeyRow]:
        """Keys of ``space`` (``OPERATOR`` only: any space, or all with None); a key holder
        sees its own space's."""
        p.require((Permission.API_KEY_MANAGE,), "manage API keys")
        if not p.operator:
            space = p.space_name
        with self.db.reader() as uow:
            space_id = None
            if space is not None:
                space_id = uow.spaces.get_id(normalize_space(space))
                if space_id is None:
                    return []
            return uow.keys.list(space_id, include_revoked)

    def revoke(self, p: Principal, key_id: str) -> ApiKeyRow:
        """Revoke a key of the holder's space (``OPERATOR``: of any space)."""
        p.require((Permission.API_KEY_MANAGE,), "manage API keys")
        wanted = key_id.strip().lower()
        with self.db.writer() as uow:
            row = uow.keys.get(wanted) if len(wanted) <= validation.MAX_ID else None
            if row is None or (not p.operator and row.space_id != p.space_id):
                raise CasekeeperError(
                    ErrorCode.API_KEY_NOT_FOUND, f"API key not found: {quote(key_id)}"
                )
            uow.keys.revoke(row.id, self.clock())
            uow.commit()
            revoked = uow.keys.get(row.id)
        with self._lock:
            self._revocations += 1
            self._cache = {k: v for k, v in self._cache.items() if v[1].key_id != row.id}
        assert revoked is not None
        return revoked

    def cached(self, authorization: str | None) -> Principal | None:
        """The principal of an ``Authorization`` value verified within ``CACHE_SECONDS``, or
        None if it needs ``authenticate`` (a database read). No I/O: safe on an event loop.
        A missing or malformed key is refused here already."""
        token = _token(authorization)
        hit = self._cache.get(token)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "ck" or len(parts[1]) != 8:
            raise _unauthenticated(
                "invalid API key: it does not have the form ck_<prefix>_<secret>"
            )
        return None

    def authenticate(self, authorization: str | None) -> Principal:
        """Resolve an ``Authorization: Bearer <key>`` value (the bare key is accepted too),
        from the cache or else the database."""
        principal = self.cached(authorization)
        if principal is not None:
            return principal
        token = _token(authorization)
        revocations = self._revocations
        now = time.monotonic()
        with self.db.reader() as uow:
            row = uow.keys.by_prefix(token.split("_")[1])
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(token)):
            raise _unauthenticated("invalid API key")
        if row.revoke_time is not None:
            raise _unauthenticated("this API key has been revoked")
        perms = frozenset(p for p in (parse_permission(x) for x in row.permissions) if p)
        principal = Principal(row.id, row.name, row.space_id, row.space_name, perms)
        with self._lock:
            if revocations == self._revocations:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = (now + CACHE_SECONDS, principal)
        self._touch(row.id, now)
        return principal

    def _touch(self, key_id: str, now: float) -> None:
        """Record the key's last use, at most once a minute, on a thread of its own: the call
        being authenticated would wait for the write, which on SQLite may queue for the lock
        behind another writer's transaction."""
        if self._touched.get(key_id, 0.0) > now:
            return
        self._touched[key_id] = now + TOUCH_SECONDS
        with contextlib.suppress(RuntimeError):  # shutting down: the last use goes unrecorded
            self._pending = self._toucher.submit(self._write_touch, key_id, self.clock())

    def _write_touch(self, key_id: str, when: int) -> None:
        try:
            with self.db.writer() as uow:
                uow.keys.touch(key_id, when)
                uow.commit()
        except Exception:  # bookkeeping only: the call it belongs to has been answered
            log.warning("could not record the last use of API key %s", key_id, exc_info=True)

    def drain(self) -> None:
        """Wait for recorded uses to be written (tests, shutdown)."""
        pending = self._pending
        if pending is not None:
            wait([pending])

    def close(self) -> None:
        self._toucher.shutdown(wait=True)


OffLoop = Callable[[Callable[[], Principal]], Awaitable[Principal]]


async def authenticate_async(
    keys: KeyService, authorization: str | None, off_loop: OffLoop
) -> Principal:
    """``keys.authenticate`` for an event loop: a cached key answers at once; a miss is
    verified by ``off_loop`` (the adapter's way to run a function on a worker thread), so a
    database that is slow or out of connections never stalls the loop."""
    principal = keys.cached(authorization)
    if principal is not None:
        return principal
    return await off_loop(functools.partial(keys.authenticate, authorization))
