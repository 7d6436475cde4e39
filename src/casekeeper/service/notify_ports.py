"""What the notification services need from the outside: something that delivers an envelope
to its connector. ``casekeeper.outbound.notify`` implements it; tests may pass their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from casekeeper.domain.notifications import Envelope, Outcome


class Deliverer(Protocol):
    """Sends one attempt and says how it went; never raises for the receiver's failures (a
    refused connection, a 500, a timeout are outcomes). One instance serves one event loop."""

    async def deliver(self, envelope: Envelope) -> Outcome: ...

    async def aclose(self) -> None: ...


DelivererFactory = Callable[[], Deliverer]
