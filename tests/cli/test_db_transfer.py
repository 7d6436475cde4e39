"""``casekeeper db copy``, ``export`` and ``import`` as an operator runs them (real processes,
real databases): exit codes, what they print, and that refusals change nothing."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.store.test_transfer import (
    contents,
    fill,
    filled_tables,
    needs_pg,
    pg_db,
    sqlite_url,
)

__all__ = ["pg_db"]  # the fixture, for this module's tests

CASEKEEPER = [sys.executable, "-m", "casekeeper"]


def ck(url: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CASEKEEPER_DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [*CASEKEEPER, *args], capture_output=True, env=env, timeout=300, input=stdin, check=False
    )


def ok(proc: subprocess.CompletedProcess[bytes]) -> str:
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = sqlite_url(tmp_path_factory.mktemp("cli-transfer") / "source.db")
    fill(url)
    return url


def test_db_copy_prints_every_table_verified(source: str, tmp_path: Path) -> None:
    target = sqlite_url(tmp_path / "copy.db")
    out = ok(ck(source, "db", "copy", "--to", target))
    for name in ("case", "case_event", "incident", "api_key", "space"):
        assert any(line.split()[1:2] == [name] for line in out.splitlines()), out
    assert "DIFFERS" not in out
    assert "every table's count and checksum match" in out
    assert contents(target) == contents(source)


def test_db_copy_refusals_exit_1_and_change_nothing(source: str, tmp_path: Path) -> None:
    same = ck(source, "db", "copy", "--to", source)
    assert same.returncode == 1
    assert b"the source and the target are the same database" in same.stderr
    target = sqlite_url(tmp_path / "full.db")
    fill(target)
    before = contents(target)
    full = ck(source, "db", "copy", "--to", target)
    assert full.returncode == 1
    assert b"not empty" in full.stderr
    assert b"Traceback" not in full.stderr
    assert contents(target) == before


@needs_pg
def test_db_copy_into_postgresql(source: str, pg_db: Callable[[], str]) -> None:
    target = pg_db()
    ok(ck(source, "db", "copy", "--to", target))
    assert contents(target) == contents(source)


def test_export_and_import_through_a_gzip_file(source: str, tmp_path: Path) -> None:
    backup = tmp_path / "backup.jsonl.gz"
    out = ok(ck(source, "export", str(backup)))
    assert f"to {backup}" in out
    header = orjson.loads(gzip.decompress(backup.read_bytes()).split(b"\n", 1)[0])
    assert header["format"] == "casekeeper-export"
    target = sqlite_url(tmp_path / "restored.db")
    out = ok(ck(target, "import", str(backup)))
    assert "count and checksum match the file" in out
    assert contents(target) == contents(source)


def test_export_to_stdout_and_import_from_stdin(source: str, tmp_path: Path) -> None:
    exported = ck(source, "export", "-")
    data = exported.stdout
    assert exported.returncode == 0, exported.stderr.decode()
    # The data alone on standard output; the summary went to standard error.
    assert data.startswith(b'{"format":"casekeeper-export"')
    assert data.endswith(b"}}\n")
    assert b"exported" in exported.stderr
    target = sqlite_url(tmp_path / "piped.db")
    ok(ck(target, "import", "-", stdin=data))
    assert contents(target) == contents(source)


def test_import_of_a_corrupt_file_fails_clearly_and_leaves_the_target_empty(
    source: str, tmp_path: Path
) -> None:
    lines = ck(source, "export", "-").stdout.split(b"\n")
    lines[5] = b'{"t": "case", "r": '
    target = sqlite_url(tmp_path / "corrupt.db")
    proc = ck(target, "import", "-", stdin=b"\n".join(lines))
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "line 6: not valid JSON" in err
    assert "Traceback" not in err
    assert filled_tables(target) == {}
