"""Login sessions (docs/SESSIONS.md): a person logs in once with a username and password and
is known by a random token in a cookie from then on (Tracecat's ``fastapiusersauth``, and the
web console's, later).

The server keeps each session as a row under the SHA-256 of its token, so a stolen database
holds no usable cookie and any session can be revoked. A session ends when it has gone unused
for ``idle`` seconds (each use slides that on, written at most once a minute), at ``max_age``
seconds after login whatever the use, on logout, on revocation, and when its user is disabled.
A session found valid is trusted for ``CACHE_SECONDS`` in the process that checked it: a
revocation made in another process takes effect there within that time (at once here).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from casekeeper.domain.errors import CasekeeperError, ErrorCode
from casekeeper.service.auth import Principal
from casekeeper.service.users import UserService, user_not_found, username_of
from casekeeper.store.sessions import SessionRow as SessionRow  # re-exported for adapters
from casekeeper.store.uow import Database

MICROS: Final = 1_000_000
CACHE_SECONDS: Final = 5.0
TOUCH_EVERY: Final = 60 * MICROS  # the sliding expiry is written at most this often
MAX_TOKEN: Final = 256


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_ended() -> CasekeeperError:
    return CasekeeperError(ErrorCode.UNAUTHENTICATED, "the session has ended: log in again")


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # the cookie's value: shown to the client once, stored only as a digest
    row: SessionRow


@dataclass(slots=True)
class _Seen:
    until: float  # monotonic: trusted until then without a read
    user_id: str
    end_time: int  # micros: the session's hard end
    last_seen: int  # micros: last use written


class SessionService:
    def __init__(
        self,
        db: Database,
        clock: Callable[[], int],
        users: UserService,
        *,
        idle: float,
        max_age: float,
    ) -> None:
        self.db = db
        self.clock = clock
        self.users = users
        self.idle = int(idle * MICROS)
        self.max_age = int(max_age * MICROS)
        self._seen: dict[str, _Seen] = {}
        self._principals: dict[tuple[str, str], tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        users.on_change.append(self.forget)

    def login(
        self, username: str, password: str, address: str, user_agent: str | None = None
    ) -> NewSession:
        """A new session for the user these credentials name (throttled like every login);
        UNAUTHENTICATED for an unknown user, a wrong password or a disabled user alike."""
        user_id = self.users.verify_login(username, password, address)
        token = secrets.token_urlsafe(32)
        now = self.clock()
        row = SessionRow(
            digest(token), str(uuid.uuid4()), user_id, now, now, now + self.max_age, None,
            address[:64] or None, (user_agent or "")[:256] or None,
        )  # fmt: skip
        with self.db.writer() as uow:
            uow.sessions.add(row)
            uow.commit()
        return NewSession(token, row)

    def user_of(self, token: str) -> str:
        """The user a session token belongs to; UNAUTHENTICATED if it is not a live session.
        Each use slides the idle expiry on."""
        if not token or len(token) > MAX_TOKEN:
            raise session_ended()
        key = digest(token)
        now = self.clock()
        with self._lock:
            seen = self._seen.get(key)
        if seen is None or seen.until <= time.monotonic():
            seen = self._read(key)
        if now >= seen.end_time or now >= seen.last_seen + self.idle:
            self._drop(key)
            raise session_ended()
        if now - seen.last_seen >= TOUCH_EVERY:
            with self.db.writer() as uow:
                uow.sessions.touch(key, now)
                uow.commit()
            seen.last_seen = now
        return seen.user_id

    def _read(self, key: str) -> _Seen:
        with self.db.reader() as uow:
            row = uow.sessions.get(key)
        if row is None or row.revoke_time is not None:
            raise session_ended()
        seen = _Seen(time.monotonic() + CACHE_SECONDS, row.user_id, row.end_time,
                     row.last_seen_time)  # fmt: skip
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen.clear()
            self._seen[key] = seen
        return seen

    def cached_principal(self, token: str, space: str) -> Principal | None:
        """``principal`` when this process checked the session and its user moments ago and
        nothing needs writing: no database work, so callers may skip a worker thread."""
        key = digest(token) if token and len(token) <= MAX_TOKEN else ""
        now_mono = time.monotonic()
        with self._lock:
            seen = self._seen.get(key)
            hit = self._principals.get((key, space))
        if seen is None or hit is None or seen.until <= now_mono or hit[0] <= now_mono:
            return None
        now = self.clock()
        fresh = now < seen.end_time and now < seen.last_seen + self.idle
        return hit[1] if fresh and now - seen.last_seen < TOUCH_EVERY else None

    def principal(self, token: str, space: str) -> Principal:
        """The session's user in ``space`` (no permissions if the user has no role there);
        UNAUTHENTICATED if the session has ended or its user is disabled or gone."""
        user_id = self.user_of(token)
        cache_key = (digest(token), space)
        with self._lock:
            hit = self._principals.get(cache_key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        found = self.users.principal(user_id, space)
        if found is None:
            raise session_ended()
        with self._lock:
            if len(self._principals) > 100_000:
                self._principals.clear()
            self._principals[cache_key] = (time.monotonic() + CACHE_SECONDS, found)
        return found

    def logout(self, token: str) -> None:
        """End the session (a token that is not a live session is UNAUTHENTICATED)."""
        self.user_of(token)
        with self.db.writer() as uow:
            uow.sessions.revoke(digest(token), self.clock())
            uow.commit()
        self._drop(digest(token))

    # -- administration --------------------------------------------------------------------

    def list_for(self, p: Principal, username: str) -> list[SessionRow]:
        """A user's sessions, newest first (the operator, or an admin of a space the user has
        a role in)."""
        user_id = self._user_id(p, username)
        with self.db.reader() as uow:
            return uow.sessions.of_user(user_id)

    def revoke_all(self, p: Principal, username: str) -> int:
        """End every live session of the user; returns how many."""
        user_id = self._user_id(p, username)
        with self.db.writer() as uow:
            count = uow.sessions.revoke_user(user_id, self.clock())
            uow.commit()
        self.forget()
        return count

    def purge(self) -> int:
        """Delete the rows of sessions that ended more than a day ago."""
        with self.db.writer() as uow:
            count = uow.sessions.forget_before(self.clock() - 86_400 * MICROS)
            uow.commit()
        return count

    def _user_id(self, p: Principal, username: str) -> str:
        name = username_of(username)
        with self.db.reader() as uow:
            row = uow.users.by_username(name)
            in_space = row is not None and (
                p.operator or uow.users.role_in(row.id, p.space_id) is not None
            )
        if row is None or not in_space:
            raise user_not_found(name)
        self.users.require_admin(p, p.space_name)
        return row.id

    def _drop(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)
            for k in [k for k in self._principals if k[0] == key]:
                del self._principals[k]

    def forget(self) -> None:
        """Read every session afresh (a user was disabled, a role changed, sessions revoked)."""
        with self._lock:
            self._seen.clear()
            self._principals.clear()
