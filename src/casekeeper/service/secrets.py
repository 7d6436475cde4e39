"""Connector secrets at rest: encrypted with a key the operator keeps outside the database.

``CASEKEEPER_SECRET_KEY`` holds the key (any text of 32 or more characters; a Fernet key as
``casekeeper keys secret-key`` prints is fine), or ``CASEKEEPER_SECRET_KEY_FILE`` names a file
holding it. Without one, a secret can still be *referenced* (``--secret-env VAR``: the worker
reads the variable when it sends), never stored. The plain secret exists only in the worker's
memory while it sends; no API, listing or log line carries it (docs/NOTIFICATIONS.md).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from casekeeper.domain.errors import invalid
from casekeeper.domain.notifications import SecretRef

MIN_KEY = 32
MAX_SECRET = 4096


class SecretUnavailable(Exception):
    """The secret cannot be had at send time: its variable is unset, or the key is wrong."""


def key_from_environment() -> str | None:
    key = os.environ.get("CASEKEEPER_SECRET_KEY", "").strip()
    if key:
        return key
    path = os.environ.get("CASEKEEPER_SECRET_KEY_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text().strip() or None
        except OSError as exc:
            raise ValueError(f"CASEKEEPER_SECRET_KEY_FILE: cannot read {path}: {exc}") from None
    return None


class SecretBox:
    def __init__(self, key: str | None) -> None:
        if key is not None and len(key) < MIN_KEY:
            raise ValueError(f"CASEKEEPER_SECRET_KEY: at least {MIN_KEY} characters, please")
        # Any key text becomes a Fernet key by hashing: operators may paste a passphrase.
        self._fernet = (
            None
            if key is None
            else Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))
        )

    @property
    def can_store(self) -> bool:
        return self._fernet is not None

    def seal(self, secret: str, field: str = "secret") -> SecretRef:
        if not secret or len(secret) > MAX_SECRET:
            raise invalid(f"a secret is 1 to {MAX_SECRET} characters", field=field)
        if self._fernet is None:
            raise invalid(
                "storing a secret needs CASEKEEPER_SECRET_KEY (or CASEKEEPER_SECRET_KEY_FILE) "
                "set on the server; or reference an environment variable instead "
                "(--secret-env VAR)",
                field=field,
            )
        return SecretRef(cipher=self._fernet.encrypt(secret.encode()).decode())

    def open(self, ref: SecretRef) -> str | None:
        """The plain secret, for sending; None when there is none."""
        if ref.env is not None:
            value = os.environ.get(ref.env)
            if not value:
                raise SecretUnavailable(f"the environment variable {ref.env} is not set")
            return value
        if ref.cipher is None:
            return None
        if self._fernet is None:
            raise SecretUnavailable("the secret is stored encrypted but CASEKEEPER_SECRET_KEY "
                                    "is not set")  # fmt: skip
        try:
            return self._fernet.decrypt(ref.cipher.encode()).decode()
        except InvalidToken:
            raise SecretUnavailable(
                "the stored secret does not open with this CASEKEEPER_SECRET_KEY"
            ) from None
