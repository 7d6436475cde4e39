"""What ``db copy``, ``export`` and ``import`` report to their progress bars: one step per
table, its total the table's rows, advanced to that total (the bar reaches the end)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from casekeeper.store.transfer import copy_database
from casekeeper.store.transfer_jsonl import export_database, import_database
from tests.store.test_transfer import fill, sqlite_url


class Recorder:
    """A progress display that remembers what it was told."""

    def __init__(self) -> None:
        self.steps: dict[str, list[int]] = {}  # description -> [total, done]

    def task(self, description: str, total: int) -> Callable[[int], None]:
        step = self.steps[description] = [total, 0]

        def advance(n: int) -> None:
            step[1] += n

        return advance


def _check(recorder: Recorder, rows: dict[str, int]) -> None:
    filled = {name: n for name, n in rows.items() if n}
    assert filled, "the source holds rows"
    for name, n in filled.items():
        (step,) = [s for d, s in recorder.steps.items() if name in d.split()]
        assert step == [n, n], name


def test_copy_export_and_import_show_each_table_to_its_end(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "source.db")
    fill(url)
    copied = Recorder()
    results = copy_database(url, sqlite_url(tmp_path / "copy.db"), copied)
    rows = {r.name: r.rows for r in results}
    _check(copied, rows)
    everything = sum(rows.values())
    assert copied.steps["verifying"] == [everything, everything]  # read back to the last row

    out = io.BytesIO()
    exported = Recorder()
    export_database(url, out, exported)
    _check(exported, rows)

    imported = Recorder()
    import_database(sqlite_url(tmp_path / "imported.db"), io.BytesIO(out.getvalue()), imported)
    _check(imported, rows)
