"""Configuration from the environment (``CASEKEEPER_*``) and command-line flags."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///./casekeeper.db"
DEFAULT_GRPC = "127.0.0.1:50051"
DEFAULT_HTTP = "127.0.0.1:8080"


def _env(name: str, default: str) -> str:
    value = os.environ.get(f"CASEKEEPER_{name}", "").strip()
    return value or default


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    grpc_address: str = DEFAULT_GRPC
    http_address: str = DEFAULT_HTTP
    ui_base_url: str = "http://127.0.0.1:8080"
    grpc_workers: int = 16
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, **overrides: str | int | None) -> Settings:
        values: dict[str, object] = {
            "database_url": _env("DATABASE_URL", DEFAULT_DATABASE_URL),
            "grpc_address": _env("GRPC_ADDRESS", DEFAULT_GRPC),
            "http_address": _env("HTTP_ADDRESS", DEFAULT_HTTP),
            "ui_base_url": _env("UI_BASE_URL", "http://127.0.0.1:8080"),
            "grpc_workers": int(_env("GRPC_WORKERS", "16")),
            "log_level": _env("LOG_LEVEL", "INFO").upper(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
