"""People who log in: users, their role in each space, passwords, and logins (docs/USERS.md).

A user has one role per space it works in; the role is a set of the same permissions API keys
hold (``ROLE_PERMISSIONS``), so every service check is the one it always was. Passwords are
hashed with scrypt (stdlib ``hashlib``, a random salt per password); a login of an unknown user
hashes against a dummy hash, so an unknown user and a wrong password take the same time. Failed
logins are limited per user and per address (``LoginThrottle``). A verified login is cached
briefly, keyed by a digest of the credentials under a per-process key, so clients that send
HTTP Basic on every request (Kibana's do) do not pay a hash each time; disabling a user or
changing a role empties the cache at once in this process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from casekeeper.domain.errors import CasekeeperError, ErrorCode, invalid, quote
from casekeeper.service import validation as v
from casekeeper.service.auth import Principal, normalize_space
from casekeeper.service.login_throttle import LoginThrottle as LoginThrottle  # re-exported
from casekeeper.service.permissions import Permission
from casekeeper.store.uow import Database
from casekeeper.store.users import RoleRow
from casekeeper.store.users import UserRow as UserRow  # re-exported: adapters see it here

P = Permission


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"


_READ = frozenset({
    P.CASE_READ, P.CASE_CONFIG_READ, P.INCIDENTS_READ, P.NOTIFICATIONS_READ,
})  # fmt: skip
_WORK = frozenset({
    P.CASE_UPDATE, P.CASE_ASSIGN, P.CASE_ACKNOWLEDGE, P.CASE_CLOSE, P.CASE_COMMENT,
    P.CASE_CREATE, P.INCIDENTS_ASSIGN, P.INCIDENTS_ACKNOWLEDGE, P.INCIDENTS_CLOSE,
})  # fmt: skip
ROLE_PERMISSIONS: Final[dict[Role, frozenset[Permission]]] = {
    Role.VIEWER: _READ,
    Role.RESPONDER: _READ | _WORK,
    Role.ADMIN: frozenset(Permission),
}

USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,255}")
MIN_PASSWORD: Final = 8
MAX_PASSWORD: Final = 1024
# scrypt cost: 2**14 x 8 x 1 (16 MiB, tens of milliseconds here): OWASP's minimum for scrypt.
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(want),
        )  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


# Verified against when the user does not exist: the same work as a wrong password.
_DUMMY: Final = hash_password(secrets.token_urlsafe(16))


def username_of(raw: str, *, field: str = "username") -> str:
    name = raw.strip().lower() if isinstance(raw, str) else ""
    if not USERNAME.fullmatch(name):
        raise invalid(
            "use 1..256 characters: a-z, 0-9 and . _ @ + - (starting with a letter or digit)",
            field=field,
        )
    return name


def role_of(raw: str) -> Role:
    try:
        return Role(raw.strip().lower())
    except ValueError:
        raise invalid(
            f"unknown role {quote(raw)}; roles: {', '.join(r.value for r in Role)}", field="role"
        ) from None


def _password(raw: str) -> str:
    if not MIN_PASSWORD <= len(raw) <= MAX_PASSWORD:
        raise invalid(f"use {MIN_PASSWORD}..{MAX_PASSWORD} characters", field="password")
    return raw


def user_not_found(name: str) -> CasekeeperError:
    return CasekeeperError(ErrorCode.USER_NOT_FOUND, f"no user named {quote(name)}")


def _refused() -> CasekeeperError:
    # One message for an unknown user, a wrong password and a disabled user: none is a hint.
    return CasekeeperError(ErrorCode.UNAUTHENTICATED, "unknown user, wrong password or disabled")


@dataclass(frozen=True, slots=True)
class UserView:
    id: str
    username: str
    email: str | None
    full_name: str | None
    disabled: bool
    roles: tuple[tuple[str, Role], ...]  # (space name, role)


CACHE_SECONDS: Final = 5.0  # as long as API keys and sessions: what other processes lag by
PROFILE_SECONDS: Final = 5.0  # how long a user's name and e-mail are shown from memory


class UserService:
    def __init__(
        self, db: Database, clock: Callable[[], int], throttle: LoginThrottle | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.throttle = throttle or LoginThrottle()
        self._cache_key = secrets.token_bytes(32)
        self._cache: dict[bytes, tuple[float, str]] = {}  # credential digest -> (until, user id)
        self._profiles: dict[str, tuple[float, UserRow | None]] = {}  # id -> (until, row)
        self._lock = threading.Lock()
        # Called when users or roles change (sessions drop what they trusted).
        self.on_change: list[Callable[[], None]] = []

    # -- administration (the operator's CLI; an admin principal of the space) ----------------

    def require_admin(self, p: Principal, space: str) -> None:
        """The operator, or a principal that may manage keys and users in ``space``."""
        if p.operator:
            return
        p.require((P.API_KEY_MANAGE,), "manage users")
        if normalize_space(space) != p.space_name:
            raise CasekeeperError(
                ErrorCode.PERMISSION_DENIED, "users can be managed in your own space only"
            )

    def create(
        self,
        p: Principal,
        *,
        username: str,
        password: str,
        space: str,
        role: str,
        email: str | None = None,
        full_name: str | None = None,
    ) -> UserView:
        self.require_admin(p, space)
        name = username_of(username)
        hashed = hash_password(_password(password))
        the_role = role_of(role)
        email = v.optional_text(email, field="email", max_len=512)
        if email is not None and "@" not in email:
            raise invalid("not an e-mail address", field="email")
        full = v.optional_text(full_name, field="full_name", max_len=512)
        now = self.clock()
        row = UserRow(str(uuid.uuid4()), name, email, full, hashed, False, now, now)
        with self.db.writer() as uow:
            if uow.users.by_username(name) is not None:
                raise CasekeeperError(ErrorCode.ALREADY_EXISTS, f"user {quote(name)} exists")
            space_id = uow.spaces.ensure(normalize_space(space), now)
            uow.users.add(row)
            uow.users.set_role(row.id, space_id, the_role.value)
            uow.commit()
        return UserView(row.id, name, email, full, False, ((normalize_space(space), the_role),))

    def list_users(self, p: Principal, space: str | None = None) -> list[UserView]:
        if space is not None or not p.operator:
            self.require_admin(p, space or p.space_name)
        with self.db.reader() as uow:
            space_id = None
            if space is not None:
                space_id = uow.spaces.get_id(normalize_space(space))
                if space_id is None:
                    return []
            return [_view(u, roles) for u, roles in uow.users.in_space(space_id)]

    def members(self, p: Principal) -> list[UserView]:
        """The enabled users with a role in the caller's space: whom a case can be assigned
        to (any principal that reads cases may see them)."""
        p.require((P.CASE_READ,), "list the space's users")
        with self.db.reader() as uow:
            found = uow.users.in_space(p.space_id)
        return [_view(u, roles) for u, roles in found if not u.disabled]

    def set_disabled(self, p: Principal, username: str, disabled: bool) -> UserView:
        name = username_of(username)
        with self.db.writer() as uow:
            row = uow.users.by_username(name)
            if row is None:
                raise user_not_found(name)
            if not p.operator:
                self.require_admin(p, p.space_name)
                if uow.users.role_in(row.id, p.space_id) is None:
                    raise user_not_found(name)
            uow.users.set_disabled(row.id, disabled, self.clock())
            if disabled:  # its sessions end: enabling it again must not revive a stolen cookie
                uow.sessions.revoke_user(row.id, self.clock())
            uow.commit()
        self._forget()
        return self._view(name)

    def set_role(self, p: Principal, username: str, space: str, role: str | None) -> UserView:
        """Give the user ``role`` in ``space`` (``None`` takes the space away)."""
        self.require_admin(p, space)
        name = username_of(username)
        the_role = role_of(role) if role is not None else None
        with self.db.writer() as uow:
            row = uow.users.by_username(name)
            if row is None:
                raise user_not_found(name)
            space_id = uow.spaces.ensure(normalize_space(space), self.clock())
            uow.users.set_role(row.id, space_id, the_role.value if the_role else None)
            uow.commit()
        self._forget()
        return self._view(name)

    def _view(self, name: str) -> UserView:
        with self.db.reader() as uow:
            row = uow.users.by_username(name)
            if row is None:
                raise user_not_found(name)
            (found,) = [x for x in uow.users.in_space(None) if x[0].id == row.id]
        return _view(*found)

    # -- logging in ---------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, space: str, address: str) -> Principal:
        """The user's principal in ``space``. UNAUTHENTICATED for an unknown user, a wrong
        password or a disabled user (one message for all three); RATE_LIMITED past the limit;
        a user without a role in the space is USER_NOT_FOUND's sibling: the space is not theirs
        (the caller answers it as the space not existing)."""
        principal = self.principal(self.verify_login(username, password, address), space)
        if principal is None:
            raise _refused()
        return principal

    def verify_login(self, username: str, password: str, address: str) -> str:
        """The id of the user these credentials name (throttled, cached briefly);
        UNAUTHENTICATED for an unknown user, a wrong password or a disabled user alike."""
        name = username.strip().lower()
        # The throttle first: a locked-out user is refused even with a password cached as
        # right, so guessing at full speed tells nothing about which guess was right.
        stamp = self.throttle.begin(name, address)
        digest = hmac.new(self._cache_key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        with self._lock:
            hit = self._cache.get(digest)
        user_id = hit[1] if hit is not None and hit[0] > time.monotonic() else None
        if user_id is None:
            user_id = self._verify(name, password)
            if user_id is None:
                raise _refused()  # the attempt stays counted
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = (time.monotonic() + CACHE_SECONDS, user_id)
        self.throttle.succeeded(name, address, stamp)
        return user_id

    def _verify(self, name: str, password: str) -> str | None:
        with self.db.reader() as uow:
            row = uow.users.by_username(name) if USERNAME.fullmatch(name) else None
        ok = verify_password(password, row.password_hash if row else _DUMMY)
        return row.id if ok and row is not None and not row.disabled else None

    def spaces_of(self, user_id: str) -> list[tuple[str, str]]:
        """(space name, role) of every space the user works in, by name (the console's space
        switcher: the user's own roles, so no permission is needed)."""
        with self.db.reader() as uow:
            return [(x.space_name, x.role) for x in uow.users.roles_of(user_id)]

    def principal(self, user_id: str, space: str) -> Principal | None:
        """The user's principal in ``space``, or None if it is disabled or gone. A user
        without a role in the space gets a principal with no permissions: the dialect answers
        its requests as it answers a space that does not exist."""
        space = space.strip().lower()
        with self.db.reader() as uow:
            row = uow.users.get(user_id)
            space_id = uow.spaces.get_id(space)
            role = uow.users.role_in(user_id, space_id) if space_id is not None else None
        if row is None or row.disabled:
            return None
        return Principal(
            key_id=row.id,
            key_name=row.username,
            space_id=space_id or 0,
            space_name=space,
            permissions=ROLE_PERMISSIONS[Role(role)] if role else frozenset(),
            user=row.id,
        )

    def _forget(self) -> None:
        with self._lock:
            self._cache.clear()
            self._profiles.clear()
        for call in self.on_change:
            call()

    def profiles(self, user_ids: list[str]) -> dict[str, UserRow]:
        """Users by id (for rendering who did what); unknown ids are left out. Remembered for
        ``PROFILE_SECONDS`` (forgotten at once when users change in this process)."""
        with self.db.reader() as uow:
            found = uow.users.many(user_ids)
        until = time.monotonic() + PROFILE_SECONDS
        with self._lock:
            if len(self._profiles) > 100_000:
                self._profiles.clear()
            for uid in user_ids:
                self._profiles[uid] = (until, found.get(uid))
        return found

    def cached_profiles(self, user_ids: list[str]) -> dict[str, UserRow] | None:
        """``profiles`` from memory, or None if any of them is not remembered (no database)."""
        now = time.monotonic()
        out: dict[str, UserRow] = {}
        with self._lock:
            for uid in user_ids:
                hit = self._profiles.get(uid)
                if hit is None or hit[0] <= now:
                    return None
                if hit[1] is not None:
                    out[uid] = hit[1]
        return out

    def member(self, p: Principal, user_id: str) -> bool:
        """Whether ``user_id`` is a user with a role in ``p``'s space (the same answer for a
        user that does not exist and one of another space: neither is named)."""
        with self.db.reader() as uow:
            return uow.users.role_in(user_id, p.space_id) is not None

    def ids_of(self, usernames: list[str]) -> dict[str, str]:
        """username -> id of those that exist (a name no user can have matches nothing)."""
        valid = [n for n in usernames if USERNAME.fullmatch(n)]
        with self.db.reader() as uow:
            return {n: r.id for n, r in uow.users.by_usernames(valid).items()}


def _view(row: UserRow, roles: list[RoleRow]) -> UserView:
    return UserView(
        row.id, row.username, row.email, row.full_name, row.disabled,
        tuple((r.space_name, Role(r.role)) for r in roles),
    )  # fmt: skip
