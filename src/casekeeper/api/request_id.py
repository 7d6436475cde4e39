"""The request id both transports take from a caller, echo back and log with."""

from __future__ import annotations

import os
import re

from casekeeper.domain.errors import redact

_ALLOWED = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


def accepted(value: str) -> str:
    """``value`` when it is safe to echo and log as it is (short, plain characters, nothing
    that looks like an API key); otherwise empty, and the server makes one up."""
    return value if _ALLOWED.fullmatch(value) and redact(value) == value else ""


def new() -> str:
    """A fresh request id: 32 hex digits, like ``uuid4().hex``."""
    return os.urandom(16).hex()
