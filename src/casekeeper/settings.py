"""Configuration from the environment (``CASEKEEPER_*``) and command-line flags.

Every setting here is documented in the README's configuration table, and
``tests/cli/test_settings.py`` proves each one takes effect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///./casekeeper.db"
DEFAULT_GRPC = "127.0.0.1:50051"
DEFAULT_HTTP = "127.0.0.1:8080"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def split_address(address: str) -> tuple[str, int]:
    """(host, port) of a listen address such as ``127.0.0.1:8080`` or ``[::1]:8080``."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def _env(name: str, default: str) -> str:
    value = os.environ.get(f"CASEKEEPER_{name}", "").strip()
    return value or default


def _flag(name: str) -> bool:
    value = _env(name, "").lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"CASEKEEPER_{name}: expected true or false, got {value!r}")


def _switch(name: str, default: bool) -> bool:
    """An on/off setting that is on (or off) unless set: unlike ``_flag``, empty is the default."""
    return _flag(name) if _env(name, "") else default


def _number(name: str, default: str, kind: type[int] | type[float]) -> int | float:
    value = _env(name, default)
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"CASEKEEPER_{name}: expected {what}, got {value!r}") from None


def _postgresql(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


# Each number's variable and the smallest value that makes sense for it.
_MINIMUMS = {
    "grpc_workers": ("GRPC_WORKERS", 1),
    "http_max_connections": ("HTTP_MAX_CONNECTIONS", 0),
    "http_header_timeout": ("HTTP_HEADER_TIMEOUT", 0.1),
    "http_body_timeout": ("HTTP_BODY_TIMEOUT", 0.1),
    "scheduler_interval": ("SCHEDULER_INTERVAL", 0.01),
    "notify_concurrency": ("NOTIFY_CONCURRENCY", 1),
    "notify_batch": ("NOTIFY_BATCH", 1),
    "notify_max_attempts": ("NOTIFY_MAX_ATTEMPTS", 1),
    "notify_max_age": ("NOTIFY_MAX_AGE", 1.0),
    "notify_timeout": ("NOTIFY_TIMEOUT", 0.1),
    "notify_lease": ("NOTIFY_LEASE", 1.0),
    "outbox_retention": ("OUTBOX_RETENTION", 0.0),
    "notify_ledger_retention": ("NOTIFY_LEDGER_RETENTION", 60.0),
    "am_warmup": ("AM_WARMUP", 0.0),
    "am_confirm_after": ("AM_CONFIRM_AFTER", 0.0),
    "session_idle": ("SESSION_IDLE", 1.0),
    "service_threads": ("SERVICE_THREADS", 1),
    "session_max_age": ("SESSION_MAX_AGE", 1.0),
    "replica_max_lag": ("REPLICA_MAX_LAG", 0.1),
}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    grpc_address: str = DEFAULT_GRPC
    http_address: str = DEFAULT_HTTP
    ui_base_url: str = "http://127.0.0.1:8080"
    grpc_workers: int = 16
    log_level: str = "INFO"
    # TLS on both ports when both are set (PEM files); plaintext otherwise.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # /metrics: per-space case gauges name tenants, so they are off unless asked for; with a
    # token set, /metrics wants `Authorization: Bearer <token>`.
    metrics_space_labels: bool = False
    metrics_token: str = ""
    # HTTP connection hygiene (see docs/SECURITY.md): a cap on open connections (0 = derived
    # from the open-files limit), and how long a client may take to send headers and body.
    http_max_connections: int = 0
    http_header_timeout: float = 10.0
    http_body_timeout: float = 30.0
    # Timed transitions (docs/LIFECYCLE_TIMERS.md) in `serve`, and seconds between their ticks
    # there and in `casekeeper worker`.
    scheduler: bool = True
    scheduler_interval: float = 10.0
    # Notifications out (docs/NOTIFICATIONS.md): the delivery worker in `serve`, sends at once,
    # the retry budget (attempts, seconds), one attempt's timeout, and how long routed outbox
    # messages and finished notifications are kept (seconds).
    notify_worker: bool = True
    notify_concurrency: int = 64
    notify_batch: int = 200  # deliveries claimed (and recorded) together
    notify_max_attempts: int = 10
    notify_max_age: float = 86_400.0
    notify_timeout: float = 10.0
    notify_lease: float = 120.0  # a claim's life: longer than a batch's sends (docs)
    outbox_retention: float = 86_400.0
    notify_ledger_retention: float = 30 * 86_400.0
    # Reconciliation with Alertmanager (docs/ALERTMANAGER.md): seconds an Alertmanager must have
    # been up before its missing alerts count, and between the two passes that must miss one.
    am_warmup: float = 300.0
    am_confirm_after: float = 60.0
    # Login sessions (docs/SESSIONS.md): seconds a session lives unused (each use extends it),
    # and at most from login, however it is used.
    session_idle: float = 12 * 3600.0
    session_max_age: float = 7 * 86_400.0
    # Service calls of the Kibana and Tracecat dialects running at once (api/threads.py).
    service_threads: int = 2
    # A PostgreSQL hot standby for list, get, facet and timeline reads, and the seconds it may
    # lag before reads go back to the primary (docs/REPLICA.md).
    database_replica_url: str = ""
    replica_max_lag: float = 5.0

    def __post_init__(self) -> None:
        for attr, (name, least) in _MINIMUMS.items():
            value = getattr(self, attr)
            if value < least:
                raise ValueError(f"CASEKEEPER_{name}: must be at least {least}, got {value}")
        if self.notify_lease <= 2 * self.notify_timeout:
            raise ValueError(
                "CASEKEEPER_NOTIFY_LEASE must be more than twice CASEKEEPER_NOTIFY_TIMEOUT: a "
                "claim that ends while its attempt is in flight could be sent twice"
            )
        if self.database_replica_url and not all(
            _postgresql(url) for url in (self.database_url, self.database_replica_url)
        ):
            raise ValueError(
                "CASEKEEPER_DATABASE_REPLICA_URL needs PostgreSQL for both the database and the "
                "replica (a hot standby of it): unset it, or use PostgreSQL"
            )

    def tls_files(self) -> tuple[str, str] | None:
        """(certificate, key) PEM files when TLS is on; None for plaintext. Half a pair is a
        mistake that must not fall back to plaintext silently."""
        if not self.tls_cert_file and not self.tls_key_file:
            return None
        if not self.tls_cert_file or not self.tls_key_file:
            raise ValueError(
                "TLS needs both a certificate and a key: give --tls-cert and --tls-key "
                "(CASEKEEPER_TLS_CERT_FILE and CASEKEEPER_TLS_KEY_FILE)"
            )
        return self.tls_cert_file, self.tls_key_file

    @classmethod
    def from_env(cls, **overrides: str | int | float | bool | None) -> Settings:
        values: dict[str, object] = {
            "database_url": _env("DATABASE_URL", DEFAULT_DATABASE_URL),
            "grpc_address": _env("GRPC_ADDRESS", DEFAULT_GRPC),
            "http_address": _env("HTTP_ADDRESS", DEFAULT_HTTP),
            "ui_base_url": _env("UI_BASE_URL", "http://127.0.0.1:8080"),
            "grpc_workers": _number("GRPC_WORKERS", "16", int),
            "log_level": _env("LOG_LEVEL", "INFO").upper(),
            "tls_cert_file": _env("TLS_CERT_FILE", ""),
            "tls_key_file": _env("TLS_KEY_FILE", ""),
            "metrics_space_labels": _flag("METRICS_SPACE_LABELS"),
            "metrics_token": _env("METRICS_TOKEN", ""),
            "http_max_connections": _number("HTTP_MAX_CONNECTIONS", "0", int),
            "http_header_timeout": _number("HTTP_HEADER_TIMEOUT", "10", float),
            "http_body_timeout": _number("HTTP_BODY_TIMEOUT", "30", float),
            "scheduler": _switch("SCHEDULER", True),
            "scheduler_interval": _number("SCHEDULER_INTERVAL", "10", float),
            "notify_worker": _switch("NOTIFY_WORKER", True),
            "notify_concurrency": _number("NOTIFY_CONCURRENCY", "64", int),
            "notify_batch": _number("NOTIFY_BATCH", "200", int),
            "notify_max_attempts": _number("NOTIFY_MAX_ATTEMPTS", "10", int),
            "notify_max_age": _number("NOTIFY_MAX_AGE", "86400", float),
            "notify_timeout": _number("NOTIFY_TIMEOUT", "10", float),
            "notify_lease": _number("NOTIFY_LEASE", "120", float),
            "outbox_retention": _number("OUTBOX_RETENTION", "86400", float),
            "notify_ledger_retention": _number("NOTIFY_LEDGER_RETENTION", "2592000", float),
            "am_warmup": _number("AM_WARMUP", "300", float),
            "am_confirm_after": _number("AM_CONFIRM_AFTER", "60", float),
            "session_idle": _number("SESSION_IDLE", "43200", float),
            "session_max_age": _number("SESSION_MAX_AGE", "604800", float),
            "service_threads": _number("SERVICE_THREADS", "2", int),
            "database_replica_url": _env("DATABASE_REPLICA_URL", ""),
            "replica_max_lag": _number("REPLICA_MAX_LAG", "5", float),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
