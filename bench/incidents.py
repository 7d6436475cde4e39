"""Incidents at scale: ListIncidents pages, GetFilterValues and AcknowledgeIncidents of 1,000.

Builds (once, cached) a space with ``--size`` incidents over 1,000 cases: 200 alerts x their
group-by values, every status and severity, two contextual labels, an application display label
and a meta label each (about four label rows per incident), written straight into the tables
with the tallies the store keeps. Then, in process, through the service layer:

* list   - statuses TRIGGERED+ACKNOWLEDGED, severities ERROR+CRITICAL, ordered by created time,
           page of 100, with its total: page 1 and page ``--depth`` (reached by its tokens)
* facets - GetFilterValues with no filter (every incident of the space)
* ack    - AcknowledgeIncidents of 1,000 triggered incidents: their events, their cases'
           timeline entries and the cases' new versions, in one transaction

Baselines in the same run, on the same engine: a raw keyset page (``SELECT * FROM incident
WHERE space_id=? ORDER BY created_at DESC, id DESC LIMIT 100`` through the DBAPI connection),
and a raw executemany UPDATE of 1,000 incidents' status with its COMMIT.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections import Counter
from typing import Any

import orjson
import sqlalchemy as sa
from common import DATA, PG_BASE, machine_info, step_args, summary_ms, write_result

from casekeeper.bootstrap import bootstrap
from casekeeper.domain.incident_query import (
    IncidentField,
    IncidentFilter,
    OrderKey,
    PageRequest,
)
from casekeeper.domain.incidents import (
    SEVERITY_RANK,
    IncidentSeverity,
    IncidentState,
    IncidentStatus,
    correlation_key,
)
from casekeeper.service.admin import NewCase
from casekeeper.service.auth import Principal
from casekeeper.service.permissions import Permission
from casekeeper.settings import Settings
from casekeeper.store import migrate
from casekeeper.store.incident_codec import INCIDENT_COLUMNS, digest

SPACE = "bench-incidents"
CASES = 1000
Sev = IncidentSeverity
STATUSES = (
    [IncidentStatus.TRIGGERED] * 4
    + [IncidentStatus.ACKNOWLEDGED] * 2
    + [IncidentStatus.RESOLVED] * 4
)
LIST_FILTER = IncidentFilter(
    statuses=(IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED),
    severities=(Sev.ERROR, Sev.CRITICAL),
)
ORDER = (OrderKey(IncidentField.CREATED_TIME),)


def _url(backend: str, size: int) -> str:
    if backend == "sqlite":
        return f"sqlite:///{DATA / f'incidents-{size}.db'}"
    return f"{PG_BASE}/casekeeper_bench_incidents_{size}"


def _principal(c: Any) -> Principal:
    with c.db.writer() as uow:
        space_id = uow.spaces.ensure(SPACE, c.cases.clock())
        uow.commit()
    return Principal("bench", "bench", space_id, SPACE, frozenset(Permission))


def _rows(space_id: int, case_ids: list[str], size: int, now: int) -> Any:
    rng = random.Random(7)
    for n in range(size):
        alert = f"{uuid.UUID(int=rng.getrandbits(128) % 200):}"
        group = {"host": f"h{n}"}
        status = rng.choice(STATUSES)
        state = (
            IncidentState.RESOLVED if status is IncidentStatus.RESOLVED else IncidentState.TRIGGERED
        )
        severity = rng.choice([s for s in Sev if s is not Sev.UNSPECIFIED])
        created = now - (size - n) * 1_000_000
        ctx = {"alert_id": alert, "region": rng.choice(["eu", "us", "ap"])}
        disp = {"coralogix.metadata.applicationName": rng.choice(["shop", "search", "pay", "auth"])}
        meta = [["team", rng.choice(["db", "web", "infra"])]]
        assignee = f"u{rng.randrange(50)}@example.test" if rng.random() < 0.3 else None
        key = correlation_key(alert, group)
        row = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "space_id": space_id,
            "case_id": case_ids[n % len(case_ids)],
            "correlation_key": key,
            "correlation_hash": digest(key),
            "name": f"alert {n % 200} on h{n}",
            "name_fold": f"alert {n % 200} on h{n}",
            "description": None,
            "state": int(state),
            "status": int(status),
            "severity": int(severity),
            "severity_rank": SEVERITY_RANK[severity],
            "assignee": assignee,
            "assignments": orjson.dumps([[assignee, "bench"]]).decode() if assignee else None,
            "contextual_labels": orjson.dumps(ctx).decode(),
            "display_labels": orjson.dumps(disp).decode(),
            "meta_labels": orjson.dumps(meta).decode(),
            "application_name": disp["coralogix.metadata.applicationName"],
            "subsystem_name": None,
            "is_muted": False,
            "created_at": created,
            "closed_at": None,
            "last_state_update_time": created,
            "last_state_update_key": f"k{n}",
            "version": 1,
        }
        labels = [("c", k, v) for k, v in ctx.items()] + [("d", k, v) for k, v in disp.items()]
        labels += [("m", k, v) for k, v in meta]
        yield row, labels


def build(backend: str, size: int) -> str:
    url = _url(backend, size)
    if backend == "pg":
        admin = sa.create_engine(f"{PG_BASE}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = url.rsplit("/", 1)[1]
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}
            ).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    else:
        DATA.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url)
    c = bootstrap(Settings(database_url=url))
    try:
        p = _principal(c)
        with c.db.reader() as uow:
            done = uow.conn.execute(sa.text("SELECT COUNT(*) FROM incident")).scalar_one()
        if done >= size:
            return url
        t0 = time.perf_counter()
        case_ids = [
            c.admin.create_case(p, NewCase(f"case {i}", 2, 3)).id  # type: ignore[arg-type]
            for i in range(CASES)
        ]
        now = c.cases.clock()
        tally: Counter[tuple[Any, ...]] = Counter()
        label_tally: Counter[tuple[Any, ...]] = Counter()
        batch: list[dict[str, Any]] = []
        label_rows: list[dict[str, Any]] = []

        def flush() -> None:
            with c.db.writer() as uow:
                uow.conn.execute(sa.text(_insert("incident", INCIDENT_COLUMNS)), batch)
                uow.conn.execute(
                    sa.text(
                        _insert(
                            "incident_label", ("incident_id", "kind", "key", "value", "space_id")
                        )
                    ),
                    label_rows,
                )
                uow.commit()
            batch.clear()
            label_rows.clear()

        for row, labels in _rows(p.space_id, case_ids, size, now):
            batch.append(row)
            for kind, k, v in labels:
                label_rows.append({"incident_id": row["id"], "kind": kind, "key": k, "value": v,
                                   "space_id": p.space_id})  # fmt: skip
                label_tally[(p.space_id, kind, k, v)] += 1
            if row["assignee"]:
                label_tally[(p.space_id, "a", "", row["assignee"])] += 1
            tally[(p.space_id, row["status"], row["state"], row["severity"], False, False)] += 1
            if len(batch) >= 20_000:
                flush()
        if batch:
            flush()
        with c.db.writer() as uow:
            keys = ("space_id", "status", "state", "severity", "is_muted", "closed")
            rows = [dict(zip((*keys, "n"), (*k, n), strict=True)) for k, n in tally.items()]
            uow.conn.execute(sa.text(_insert("incident_tally", (*keys, "n"))), rows)
            lkeys = ("space_id", "kind", "key", "value", "n")
            rows = [dict(zip(lkeys, (*k, n), strict=True)) for k, n in label_tally.items()]
            uow.conn.execute(sa.text(_insert("incident_label_tally", lkeys)), rows)
            uow.commit()
        with c.db.writer() as uow:
            uow.conn.execute(sa.text("ANALYZE"))
            uow.commit()
        print(f"built {size} incidents in {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        c.close()
    return url


def _insert(table: str, cols: tuple[str, ...]) -> str:
    names = ", ".join(f'"{x}"' for x in cols)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(":" + x for x in cols)})'


def _time(fn: Any, reps: int) -> list[int]:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        out.append(time.perf_counter_ns() - t0)
    return out


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--depth", type=int, default=1000)
    ap.add_argument("--ack-reps", type=int, default=5)
    a = ap.parse_args()
    url = build(a.backend, a.size)
    c = bootstrap(Settings(database_url=url))
    p = _principal(c)
    svc = c.incidents

    def page(token: str | None = None) -> Any:
        return svc.list_incidents(p, LIST_FILTER, ORDER, PageRequest(100, token))

    raw = c.db.engine.raw_connection()
    mark = "?" if c.db.sqlite else "%s"
    raw_sql = (f'SELECT * FROM "incident" WHERE space_id = {mark} '
               "ORDER BY created_at DESC, id DESC LIMIT 100")  # fmt: skip

    def raw_page() -> None:
        cur = raw.cursor()
        cur.execute(raw_sql, (p.space_id,))
        cur.fetchall()
        cur.close()

    token = None
    t0 = time.perf_counter()
    for _ in range(a.depth - 1):
        token = page(token).next_token
    walk = time.perf_counter() - t0
    deep_token = token
    for _ in range(5):
        page(), page(deep_token), raw_page()  # warm up
    p1, deep, base = [], [], []
    for _ in range(a.reps):  # interleaved
        p1 += _time(page, 1)
        deep += _time(lambda: page(deep_token), 1)
        base += _time(raw_page, 1)
    first = page()
    facets = _time(lambda: svc.filter_values(p, IncidentFilter()), max(5, a.reps // 6))

    # AcknowledgeIncidents of 1,000 triggered incidents, a fresh 1,000 each time.
    with c.db.reader() as uow:
        triggered = [r[0] for r in uow.conn.execute(sa.text(
            "SELECT id FROM incident WHERE space_id = :s AND status = 1 LIMIT :n"),
            {"s": p.space_id, "n": 1000 * (a.ack_reps * 2 + 1)})]  # fmt: skip
    chunks = [triggered[i * 1000 : (i + 1) * 1000] for i in range(a.ack_reps * 2)]
    ack, upd = [], []
    for i in range(a.ack_reps):
        ack += _time(lambda ids=chunks[2 * i]: svc.acknowledge(p, ids), 1)

        def raw_update(ids: list[str] = chunks[2 * i + 1]) -> None:
            cur = raw.cursor()
            cur.executemany(
                f'UPDATE "incident" SET status = 2 WHERE id = {mark}', [(x,) for x in ids]
            )
            raw.commit()
            cur.close()

        upd += _time(raw_update, 1)
    raw.close()
    c.close()
    res = {
        "backend": a.backend,
        "size": a.size,
        "machine": machine_info(),
        "list_total": first.total_size,
        "walk_seconds": round(walk, 2),
        "list_page1_ms": summary_ms(p1),
        "list_deep_ms": summary_ms(deep),
        "list_deep_page": a.depth,
        "raw_keyset_page_ms": summary_ms(base),
        "deep_over_first": round(statistics.median(deep) / statistics.median(p1), 2),
        "filter_values_ms": summary_ms(facets),
        "ack_1000_ms": summary_ms(ack),
        "raw_update_1000_ms": summary_ms(upd),
    }
    write_result(a.out, f"incidents_{a.backend}", res)


if __name__ == "__main__":
    main()
