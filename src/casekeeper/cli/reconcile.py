"""``casekeeper signals reconcile``: ask Alertmanager now, instead of waiting for the schedule.

Resolves the incidents (and, through them, cases) of Alertmanager alerts that Alertmanager no
longer reports, and brings acknowledge-until-clear silences in step (docs/ALERTMANAGER.md).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from casekeeper.cli.common import DatabaseOpt, console, container_for, fail
from casekeeper.domain.timeutil import now_us
from casekeeper.service.alertmanager_sync import SyncResult


# Registered as ``casekeeper signals reconcile`` in cli/main.py (the ``signals`` group is
# cli/signals.py's).
def reconcile(
    space: Annotated[
        str | None,
        typer.Option("--space", help="Only this space (default: every space with open alerts)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Say what would be resolved; change nothing."),
    ] = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Reconcile open Alertmanager alerts with the Alertmanagers they came from."""
    with container_for(database_url) as c:
        sync = c.am_sync
        if space is not None:
            space_id = sync.space_id(space)
            if space_id is None:
                raise fail(f"no space named {space!r}")
            targets = [(space_id, space)]
        else:
            targets = sync.spaces()
        now = now_us()
        results: list[tuple[str, SyncResult]] = []
        for space_id, name in targets:
            if dry_run:
                results.append(
                    (
                        name,
                        SyncResult(
                            space_id, sync.reconcile(space_id, now=now, dry_run=True, at_once=True)
                        ),
                    )
                )
            else:
                results.append((name, sync.sync(space_id, now=now, at_once=True)))
    if not results:
        console.print("no space has open Alertmanager alerts; nothing to reconcile")
        return
    table = Table(
        "space", "open alerts", "resolved" + (" (dry run)" if dry_run else ""),
        "silences +/~/-", "unreachable",
    )  # fmt: skip
    unreachable = 0
    for name, r in results:
        rec, sil = r.reconcile, r.silences
        down = {u.url: u.reason for u in (rec.unreachable if rec else ())}
        down.update({u.url: u.reason for u in (sil.unreachable if sil else ())})
        unreachable += len(down)
        table.add_row(
            name,
            str(rec.checked if rec else 0),
            str(rec.resolved if rec else 0),
            f"{sil.created}/{sil.renewed}/{sil.expired}" if sil else "-",
            "\n".join(f"{url}: {why}" for url, why in sorted(down.items())) or "-",
        )
    console.print(table)
    if unreachable:
        # Nothing was resolved from an Alertmanager that could not be read: say so in the status.
        raise typer.Exit(2)
