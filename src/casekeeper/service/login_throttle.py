"""Failed logins, limited per user and per address (docs/USERS.md)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from casekeeper.domain.errors import CasekeeperError, ErrorCode


class LoginThrottle:
    """At most ``per_user`` failed logins per user and ``per_address`` per address within
    ``window`` seconds; past that, logins are refused (429) until old failures age out. A
    success does not reset the address's count (one stolen password must not unlock a
    password-spraying address)."""

    def __init__(
        self,
        per_user: int = 5,
        per_address: int = 20,
        window: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_user, self.per_address, self.window, self.clock = (
            per_user, per_address, window, clock,
        )  # fmt: skip
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def begin(self, username: str, address: str) -> float:
        """Refuse the attempt past the limits, else count it as failed until ``succeeded``
        says otherwise: checked and counted under one lock, so parallel guesses cannot all
        pass the check before any of them is counted. Returns the attempt's stamp."""
        now = self.clock()
        with self._lock:
            for key, limit in ((f"u:{username}", self.per_user),
                               (f"a:{address}", self.per_address)):  # fmt: skip
                q = self._recent(key, now)
                if len(q) >= limit:
                    wait = max(1, int(q[0] + self.window - now) + 1)
                    raise CasekeeperError(
                        ErrorCode.RATE_LIMITED,
                        f"too many failed logins; try again in {wait} s",
                        detail={"retry_after": wait},
                    )
            for key in (f"u:{username}", f"a:{address}"):
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # bounded: drop what has aged out
                for key in [k for k, q in self._failures.items() if not self._recent(k, now)]:
                    del self._failures[key]
        return now

    def succeeded(self, username: str, address: str, stamp: float) -> None:
        """The attempt was right: the user's failures are forgiven, and this attempt no
        longer counts against the address (its earlier failures still do)."""
        with self._lock:
            self._failures.pop(f"u:{username}", None)
            q = self._failures.get(f"a:{address}")
            if q is not None and stamp in q:
                q.remove(stamp)
