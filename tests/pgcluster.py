"""A private PostgreSQL 15 cluster on loopback for tests: start, stop, restart, a streaming
standby of it.

Run as root (CI), the server runs as the ``postgres`` OS user (PostgreSQL refuses root): its
data directory must be reachable by that user, so use ``PgCluster.temp_dir()`` (under /tmp, not
pytest's private tmp_path). Trust authentication on 127.0.0.1 only, no Unix socket; fsync and
full-page writes are off (a crash of the machine may lose a test cluster, nothing else).

Without the binaries, ``require_binaries()`` skips the test, unless CASEKEEPER_REQUIRE_REPLICA=1
(CI), which makes it fail instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

BIN = Path(os.environ.get("CASEKEEPER_PG_BIN", "/usr/lib/postgresql/15/bin"))
_AS_ROOT = os.geteuid() == 0
_SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
port = {port}
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 5
wal_keep_size = '128MB'
hot_standby = on
max_connections = 60
shared_buffers = '32MB'
wal_receiver_status_interval = 1s
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def require_binaries() -> None:
    """Skip (or, with CASEKEEPER_REQUIRE_REPLICA=1, fail) when PostgreSQL 15 is not here."""
    missing = [n for n in ("initdb", "pg_ctl", "pg_basebackup") if not (BIN / n).exists()]
    if _AS_ROOT and not missing:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("the 'postgres' OS user (root cannot run the server)")
    if not missing:
        return
    why = f"PostgreSQL 15 not usable here (missing {', '.join(missing)} in {BIN})"
    if os.environ.get("CASEKEEPER_REQUIRE_REPLICA") == "1":
        pytest.fail(why + "; CASEKEEPER_REQUIRE_REPLICA=1 requires it")
    pytest.skip(why)


class PgCluster:
    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        self.port = port
        self.log = path / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @staticmethod
    def temp_dir(prefix: str = "pgcluster-") -> Path:
        """A fresh directory the ``postgres`` user can reach (pass a child of it to init)."""
        path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        path.chmod(0o755)
        return path

    @classmethod
    def init(cls, path: Path, port: int) -> PgCluster:
        """A new cluster in ``path`` (made; it must not exist), not started."""
        cluster = cls(path, port)
        path.mkdir(mode=0o700)
        cluster._own()
        cluster._run(BIN / "initdb", "-D", str(path), "-U", "postgres", "-A", "trust",
                     "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        with (path / "postgresql.conf").open("a") as conf:
            conf.write(_SETTINGS.format(port=port))
        return cluster

    def standby(self, path: Path, port: int) -> PgCluster:
        """A streaming hot standby of this (running) cluster, in ``path``, started."""
        standby = PgCluster(path, port)
        path.mkdir(mode=0o700)
        standby._own()
        self._run(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", "-D", str(path), "-R", "-X", "stream", "-c", "fast",
                  "--no-sync")  # fmt: skip
        standby.log.unlink(missing_ok=True)  # the primary's, copied
        with (path / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {port}\n")
        standby.start()
        return standby

    def start(self) -> None:
        """Start and wait until it accepts connections (a standby: until it is consistent)."""
        self._run(BIN / "pg_ctl", "-D", str(self.path), "-l", str(self.log), "-w", "-t", "60",
                  "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast``: disconnect clients, shut down cleanly; ``immediate``: as if it crashed."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"unknown stop mode {mode!r}")
        self._run(BIN / "pg_ctl", "-D", str(self.path), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._run(BIN / "pg_ctl", "-D", str(self.path), "-l", str(self.log), "-m", mode,
                  "-w", "-t", "60", "restart")  # fmt: skip

    def running(self) -> bool:
        status = subprocess.run(
            self._argv(BIN / "pg_ctl", "-D", str(self.path), "status"),
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def destroy(self) -> None:
        """Stop it (immediately) if running and remove its files."""
        if self.path.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.path, ignore_errors=True)

    def _own(self) -> None:
        if _AS_ROOT:
            shutil.chown(self.path, "postgres", "postgres")

    @staticmethod
    def _argv(*argv: str | Path) -> list[str]:
        args = [str(a) for a in argv]
        return ["runuser", "-u", "postgres", "--", *args] if _AS_ROOT else args

    def _run(self, *argv: str | Path) -> None:
        done = subprocess.run(self._argv(*argv), capture_output=True, text=True, check=False,
                              timeout=120, cwd="/")  # fmt: skip
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(map(str, argv))} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}\n{log}"
            )
