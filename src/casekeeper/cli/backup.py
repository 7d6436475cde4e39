"""``casekeeper export FILE`` / ``casekeeper import FILE``: the whole database as JSON Lines
(docs/BACKUP.md), and the progress bar and summary ``db copy`` shares."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, console, err_console, fail, settings_for
from casekeeper.store.transfer import TableResult, TransferError
from casekeeper.store.transfer_jsonl import export_database, import_database, unpacked


class Bars:
    """Progress of a copy, an export or an import: one bar per table (rows done / rows)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def task(self, description: str, total: int) -> Callable[[int], None]:
        task = self._progress.add_task(description, total=total)

        def advance(n: int) -> None:
            self._progress.advance(task, n)

        return advance


@contextlib.contextmanager
def bars(on: Console) -> Iterator[Bars]:
    # Transient: the summary table printed after it is the record of what was done.
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=on,
        transient=True,
    )
    with progress:
        yield Bars(progress)


def summary(on: Console, results: list[TableResult], *, checked: bool = True) -> None:
    table = Table("table", "rows", "checksum (sha256 sum)", *(("ok",) if checked else ()))
    for r in results:
        ok = ("[green]ok[/green]" if r.ok else "[red]DIFFERS[/red]",) if checked else ()
        rows = f"{r.rows:,}" if r.rows == r.target_rows else f"{r.rows:,} -> {r.target_rows:,}"
        table.add_row(r.name, rows, r.checksum[:16], *ok)
    on.print(table)


def transfer_failed(err: TransferError, on: Console) -> typer.Exit:
    if err.results:
        summary(on, err.results)
    return fail(err.message)


def interrupted() -> typer.Exit:
    return fail("interrupted: nothing was kept (the target was rolled back and is empty)", 130)


FileArg = Annotated[
    str,
    typer.Argument(help="The file; '-' for standard output/input. A name ending in .gz: gzip."),
]


def export_(file: FileArg, database_url: DatabaseOpt = None) -> None:
    """Write every row of the configured database to FILE (JSON Lines; docs/BACKUP.md)."""
    url = settings_for(database_url).database_url
    to_stdout = file == "-"
    # Standard output carries the data, so the bar and the summary go to standard error.
    ui = err_console if to_stdout else console
    started = time.perf_counter()
    try:
        if to_stdout:
            with bars(ui) as progress:
                results = export_database(url, sys.stdout.buffer, progress)
        else:
            results = _export_file(url, Path(file), ui)
    except TransferError as err:
        raise transfer_failed(err, err_console) from None
    except KeyboardInterrupt:
        raise fail("interrupted: no export was written", 130) from None
    summary(ui, results, checked=False)
    rows = sum(r.rows for r in results)
    where = "standard output" if to_stdout else file
    ui.print(f"exported {rows:,} rows to {where} in {time.perf_counter() - started:.1f} s")


def _export_file(url: str, path: Path, ui: Console) -> list[TableResult]:
    """Into a temporary file beside ``path``, renamed to it once complete: a failed export
    leaves no file that looks like a backup."""
    part = path.with_name(f".{path.name}.part")
    part.unlink(missing_ok=True)  # a leftover of an interrupted export (never followed)
    try:
        # Owner-only (it holds password hashes and secrets' ciphertext), created here and not
        # through a planted link, and on disk before it takes the backup's name.
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as raw:
            out: IO[bytes] = raw
            with contextlib.ExitStack() as stack:
                if path.name.endswith(".gz"):
                    out = stack.enter_context(gzip_writer(raw))
                with bars(ui) as progress:
                    results = export_database(url, out, progress)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        part.unlink(missing_ok=True)
    return results


def gzip_writer(raw: IO[bytes]) -> IO[bytes]:
    import gzip

    # Level 6: most of level 9's size at a fraction of its time.
    return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6)  # type: ignore[return-value]


def import_(file: FileArg, database_url: DatabaseOpt = None) -> None:
    """Load FILE (from `casekeeper export`) into the configured database, which must be empty;
    all of it, verified, or nothing."""
    url = settings_for(database_url).database_url
    started = time.perf_counter()
    try:
        with _reader(file) as inp, bars(console) as progress:
            results = import_database(url, unpacked(inp), progress)
    except TransferError as err:
        raise transfer_failed(err, err_console) from None
    except FileNotFoundError:
        raise fail(f"no such file: {file}") from None
    except KeyboardInterrupt:
        raise interrupted() from None
    summary(console, results)
    rows = sum(r.rows for r in results)
    console.print(
        f"imported {rows:,} rows in {time.perf_counter() - started:.1f} s; every table's count "
        "and checksum match the file"
    )


@contextlib.contextmanager
def _reader(file: str) -> Iterator[io.BufferedReader]:
    if file == "-":
        stdin = sys.stdin.buffer
        if not isinstance(stdin, io.BufferedReader):  # a test runner's replacement
            stdin = io.BufferedReader(stdin)
        yield stdin
        return
    with Path(file).open("rb") as raw:  # a BufferedReader, which can peek
        yield raw
