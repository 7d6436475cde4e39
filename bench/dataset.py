"""The benchmark dataset: N realistic cases in space ``bench``, on SQLite and on PostgreSQL.

Built once per (backend, size, seed) and reused: SQLite files live in ``bench/.data/`` (with a
JSON sidecar holding the API key, the counts and the plans seen before ``ANALYZE``); the
PostgreSQL database ``casekeeper_bench`` carries the dataset's name as its comment.

Cases are written through the store's own bulk path (``uow.cases.add_many``), so rows and tags
are exactly what the server writes. The distribution (also printed in docs/PERFORMANCE.md):

* create times spread evenly over the 365 days before 2026-11-01 (UTC), numbers in that order;
* status depends on age: recent cases are mostly open, old ones resolved or closed (overall
  about 0.3 % pending, 4 % active, 4 % acknowledged, 21 % resolved, 70 % closed);
* priority P1..P5 = 5 / 15 / 30 / 35 / 15 %; category availability 80 %, security 20 %;
* groupings ``service`` (20 values, Zipf weights: 28 % .. 1.4 %), ``environment``
  (production 60 %, staging 40 %) and ``team`` (6 values, one per service);
* labels ``region`` (4 values) and ``tier`` (3 values); one impacted APM service;
* one indicator each: an alert (60 %, from 2,000 alert definitions, 2 versions), a Prometheus
  alert (25 %) or an error-tracking issue (15 %);
* 70 % of non-pending cases assigned (200 users), 5 % with a priority override.

Run ``python bench/dataset.py --backend sqlite --size 1000000`` to build ahead of time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import DATA, PG_BASE, PG_DB, SPACE, list_page

from casekeeper.bootstrap import Container, bootstrap
from casekeeper.domain import events as ev
from casekeeper.domain import timeline as tl
from casekeeper.domain.enums import (
    CaseCategory,
    CasePriority,
    CaseStatus,
    OrderDirection,
    OrderField,
    ResolverKind,
)
from casekeeper.domain.model import Case, KeyValue, PriorityDetails, ResolutionDetails
from casekeeper.domain.query import (
    CaseFilters,
    CaseOrder,
    CaseQuery,
    FilterGroup,
    PageRequest,
)
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import OPERATOR, Principal
from casekeeper.service.permissions import Permission
from casekeeper.settings import Settings
from casekeeper.store import driver, migrate, schema
from casekeeper.store.engine import is_sqlite

FORMAT = 3  # bump when the generator changes, so cached datasets are rebuilt
SECOND = 1_000_000
HOUR = 3600 * SECOND
DAY = 24 * HOUR
T_END = 1_793_491_200 * SECOND  # 2026-11-01T00:00:00Z
SPAN = 365 * DAY
BATCH = 5000
EVENT_NS = uuid.UUID("0b9a7f0e-6c1d-4f7e-9a43-5be4c0de0001")

SERVICES = [
    "checkout", "payments", "search", "auth", "inventory", "notifications", "gateway",
    "catalog", "cart", "shipping", "pricing", "recommendations", "reviews", "accounts",
    "billing", "reporting", "media", "email", "ledger", "fraud",
]  # fmt: skip
SERVICE_WEIGHTS = [1 / (k + 1) for k in range(len(SERVICES))]
TEAM_NAMES = ["commerce", "identity", "discovery", "platform", "finance", "growth"]
TEAMS = {s: TEAM_NAMES[k % len(TEAM_NAMES)] for k, s in enumerate(SERVICES)}
REGIONS = ["eu-west-1", "us-east-1", "us-west-2", "ap-south-1"]
TIERS = ["frontend", "backend", "data"]
PRIORITIES = [CasePriority.P1, CasePriority.P2, CasePriority.P3, CasePriority.P4, CasePriority.P5]
PRIORITY_WEIGHTS = [5, 15, 30, 35, 15]
S = CaseStatus
STATUSES = [S.PENDING_ACTIVATION, S.ACTIVE, S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED]
# (max age, weights over STATUSES)
STATUS_BY_AGE = [
    (3 * DAY, [5, 40, 30, 20, 5]),
    (30 * DAY, [1, 15, 15, 49, 20]),
    (SPAN + DAY, [0.2, 3, 3, 18.8, 75]),
]
AVAILABILITY = [
    "High error rate on {svc} in {env}",
    "p99 latency above SLO for {svc}",
    "{svc} pods crash-looping after deploy",
    "Disk almost full on {svc} database primary",
    "Spike in 5xx responses from {svc}",
    "{svc} queue consumer lag growing",
]
SECURITY = [
    "Unusual login volume against {svc}",
    "Secrets scanner found a leaked token for {svc}",
    "Outbound traffic to a known bad IP from {svc}",
]

# The ListCases filters of the benchmark (see list_cases.py).
BROAD = CaseFilters(
    statuses=(S.RESOLVED, S.CLOSED),
    priorities=(CasePriority.P3, CasePriority.P4),
    groupings=(FilterGroup("environment", ("production",)),),
)
NARROW = CaseFilters(
    statuses=(S.ACTIVE,),
    priorities=(CasePriority.P1,),
    groupings=(FilterGroup("environment", ("production",)),),
)
RARE = CaseFilters(  # broad statuses/priorities with a selective grouping (rarest service)
    statuses=(S.RESOLVED, S.CLOSED),
    priorities=(CasePriority.P3, CasePriority.P4),
    groupings=(FilterGroup("service", (SERVICES[-1],)),),
)
FILTERS = {"broad": BROAD, "narrow": NARROW, "rare": RARE}
ORDER = CaseOrder(OrderField.UPDATED_AT, OrderDirection.DESCENDING)


def query(filters: CaseFilters, token: str | None = None, size: int = 50) -> CaseQuery:
    return CaseQuery(filters=filters, order=ORDER, page=PageRequest(size=size, token=token))


def list_request(filters: CaseFilters, token: str | None = None, size: int = 50) -> Any:
    """The gRPC ``ListCasesRequest`` equivalent to ``query(filters, token, size)``."""
    from casekeeper.proto.com.coralogixapis.cases.v1 import cases_service_pb2 as pb

    req = pb.ListCasesRequest()
    req.filters.statuses.extend(int(x) for x in filters.statuses)
    req.filters.priorities.extend(int(x) for x in filters.priorities)
    for g in filters.groupings:
        req.filters.groupings.add(key=g.key, values=list(g.values))
    req.order_by.field = int(ORDER.field)
    req.order_by.direction = int(ORDER.direction)
    req.pagination.page_size = size
    if token:
        req.pagination.page_token = token
    return req


@dataclass
class Dataset:
    backend: str
    url: str
    size: int
    seed: int
    key: str
    meta: dict[str, Any]

    def container(self) -> Container:
        return bootstrap(Settings.from_env(database_url=self.url))

    def principal(self, c: Container) -> Principal:
        return c.keys.authenticate(f"Bearer {self.key}")


def schema_tag() -> str:
    """Short digest of the migrations, so a cached dataset is rebuilt when the schema changes."""
    h = hashlib.sha256()
    for f in sorted(migrate.MIGRATIONS.glob("versions/*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:8]


def name_of(size: int, seed: int) -> str:
    return f"cases-v{FORMAT}-{schema_tag()}-n{size}-s{seed}"


def _drop_stale(size: int, seed: int, keep: str) -> None:
    """Delete cached SQLite datasets of the same size and seed built for another schema."""
    pattern = re.compile(rf"cases-v\d+(-[0-9a-f]{{8}})?-n{size}-s{seed}(\.db(-wal|-shm)?|\.json)")
    for f in DATA.glob("cases-v*"):
        if pattern.fullmatch(f.name) and not f.name.startswith(keep + "."):
            f.unlink()


# ---------------------------------------------------------------------------------------------
# generation


def _expo(rng: random.Random, mean: int) -> int:
    return int(rng.expovariate(1 / mean))


def _indicators(rng: random.Random, svc: str, env: str, start: int, prio: int) -> dict[str, Any]:
    kind = rng.random()
    when = to_rfc3339(start)
    p = f"INDICATOR_PRIORITY_P{prio}"
    if kind < 0.60:
        alert = uuid.UUID(int=(rng.randrange(2000) * 7919 + 12345) << 64 | 0xABCDEF, version=4)
        return {"alertIndicators": [{
            "alertId": str(alert), "latestAlertVersion": "v3", "alertVersions": ["v2", "v3"],
            "priority": p, "groupingType": "GROUPING_TYPE_NONE",
            "state": "INDICATOR_STATE_TRIGGERED", "triggerTime": when,
            "permutations": [{"permutation": {"service": svc, "env": env}}],
        }]}  # fmt: skip
    if kind < 0.85:
        fp = f"{rng.getrandbits(64):016x}"
        labels = {"alertname": "HighErrorRate", "service": svc, "env": env, "severity": "critical"}
        group = f'{{}}:{{alertname="HighErrorRate", service="{svc}"}}'
        return {"prometheusAlertIndicators": [{
            "alertGroupId": group, "status": {"triggered": {"triggeredAt": when}}, "priority": p,
            "groupLabels": {"alertname": "HighErrorRate"}, "receiver": "casekeeper",
            "receivedAt": when, "updatedAt": when,
            "alerts": [{
                "alertGroupId": group, "alertName": "HighErrorRate", "fingerprint": fp,
                "priority": p, "labels": labels,
                "annotations": {"summary": f"Error rate above 5% on {svc}"},
                "status": {"triggered": {"triggeredAt": when}}, "createdAt": when,
            }],
        }]}  # fmt: skip
    return {"genericIndicators": [{
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "externalId": f"ERR-{rng.randint(1000, 99999)}",
        "indicatorType": "GENERIC_INDICATOR_TYPE_ERROR_TRACKING",
        "status": "GENERIC_INDICATOR_STATUS_TRIGGERED", "priority": p, "lastTriggeredAt": when,
        "labels": [{"key": "service", "value": svc}],
    }]}  # fmt: skip


def generate(space_id: int, size: int, seed: int) -> Iterator[Case]:
    rng = random.Random(seed)
    users = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(200)]
    start = T_END - SPAN
    step = SPAN / size
    for i in range(size):
        create = start + int(i * step) + rng.randrange(max(1, int(step)))
        age = T_END - create
        weights = next(w for limit, w in STATUS_BY_AGE if age < limit)
        status = rng.choices(STATUSES, weights)[0]
        prio = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        svc = rng.choices(SERVICES, SERVICE_WEIGHTS)[0]
        env = "production" if rng.random() < 0.6 else "staging"
        security = rng.random() < 0.2
        title = rng.choice(SECURITY if security else AVAILABILITY).format(svc=svc, env=env)
        pending = status is S.PENDING_ACTIVATION
        override = None
        if not pending and rng.random() < 0.05:
            override = rng.choice(PRIORITIES)
        assignee = rng.choice(users) if not pending and rng.random() < 0.7 else None
        ack = resolve = end = None
        resolution = None
        update = create
        if status is S.ACTIVE:
            update = create + _expo(rng, 2 * HOUR)
        elif status is S.ACKNOWLEDGED:
            ack = create + _expo(rng, HOUR // 2)
            update = ack + _expo(rng, HOUR)
        elif status in (S.RESOLVED, S.CLOSED):
            if rng.random() < 0.6:
                ack = create + _expo(rng, HOUR // 2)
            resolve = max(ack or create, create + _expo(rng, 6 * HOUR))
            end = update = resolve
            if status is S.CLOSED:
                update = resolve + _expo(rng, DAY)
            resolution = ResolutionDetails(
                reason=rng.choice(["Mitigated", "Rolled back", "False positive", None]),
                resolve_time=resolve,
                resolved_by=rng.choice([ResolverKind.API_KEY, ResolverKind.SYSTEM]),
            )
        cap = T_END - SECOND
        yield Case(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            space_id=space_id,
            number=None if pending else i + 1,
            title=title,
            status=status,
            priority=PriorityDetails(system=prio, override=override),
            category=CaseCategory.SECURITY if security else CaseCategory.AVAILABILITY,
            create_time=create,
            update_time=min(update, cap),
            assignees=(assignee,) if assignee else (),
            acknowledge_time=None if ack is None else min(ack, cap),
            resolution=resolution,
            end_time=None if end is None else min(end, cap),
            labels=(KeyValue("region", rng.choice(REGIONS)), KeyValue("tier", rng.choice(TIERS))),
            groupings=(
                KeyValue("service", svc),
                KeyValue("environment", env),
                KeyValue("team", TEAMS[svc]),
            ),
            impacted_entities=({"apmService": {"name": svc}},),
            indicators=_indicators(rng, svc, env, create, int(prio)),
            version=1 + rng.randrange(4),
        )


# ---------------------------------------------------------------------------------------------
# building


def _write(c: Container, batch: list[Case], actor: ev.Actor) -> None:
    """Cases, their tags, and one "created" timeline event each (so ``case_event`` has a
    realistic size when the bulk benchmark appends to it)."""
    events = [
        ev.CaseEvent(
            event_id=str(uuid.uuid5(EVENT_NS, x.id)),
            case_id=x.id,
            space_id=x.space_id,
            data=tl.Created(x.priority.system),
            actor=actor,
            create_time=x.create_time,
            event_time=x.create_time,
        )
        for x in batch
    ]
    with c.db.writer() as uow:
        uow.cases.add_many(batch)
        uow.events.add_many(events)
        uow.commit()


def _load(c: Container, size: int, seed: int) -> tuple[str, int, float]:
    new = c.keys.create(
        granted_by=OPERATOR, name="bench", permissions=[p.value for p in Permission], space=SPACE
    )
    space_id = new.row.space_id
    actor = ev.Actor.api_key(new.row.id, new.row.name)
    t0 = time.perf_counter()
    batch: list[Case] = []
    done = 0
    for case in generate(space_id, size, seed):
        batch.append(case)
        if len(batch) >= BATCH:
            _write(c, batch, actor)
            done += len(batch)
            batch = []
            if done % 100_000 == 0:
                rate = done / (time.perf_counter() - t0)
                print(f"  loaded {done:,} cases ({rate:,.0f}/s)", flush=True)
    if batch:
        _write(c, batch, actor)
    with c.db.writer() as uow:
        uow.conn.execute(
            sa.text("UPDATE space SET case_seq = :n WHERE id = :s"), {"n": size, "s": space_id}
        )
        uow.commit()
    return new.key, space_id, time.perf_counter() - t0


def _counts(c: Container, space_id: int) -> dict[str, Any]:
    with c.db.engine.connect() as conn:
        by = conn.execute(
            sa.text(
                'SELECT status, priority, count(*) FROM "case" WHERE space_id = :s '
                "GROUP BY status, priority"
            ),
            {"s": space_id},
        ).all()
        tags = conn.execute(sa.text("SELECT count(*) FROM case_tag")).scalar_one()
        prod = conn.execute(
            sa.text(
                'SELECT count(*) FROM "case" c JOIN case_tag t ON t.case_id = c.id '
                "AND t.kind = 'g' AND t.key = 'environment' AND t.value = 'production' "
                "WHERE c.space_id = :s AND c.status IN (4, 5) AND c.priority IN (3, 4)"
            ),
            {"s": space_id},
        ).scalar_one()
        narrow = conn.execute(
            sa.text(
                'SELECT count(*) FROM "case" c JOIN case_tag t ON t.case_id = c.id '
                "AND t.kind = 'g' AND t.key = 'environment' AND t.value = 'production' "
                "WHERE c.space_id = :s AND c.status = 2 AND c.priority = 1"
            ),
            {"s": space_id},
        ).scalar_one()
        rare = conn.execute(
            sa.text(
                'SELECT count(*) FROM "case" c JOIN case_tag t ON t.case_id = c.id '
                "AND t.kind = 'g' AND t.key = 'service' AND t.value = :v "
                "WHERE c.space_id = :s AND c.status IN (4, 5) AND c.priority IN (3, 4)"
            ),
            {"s": space_id, "v": SERVICES[-1]},
        ).scalar_one()
    status: dict[str, int] = {}
    prio: dict[str, int] = {}
    for s, p, n in by:
        status[S(s).name] = status.get(S(s).name, 0) + n
        prio[CasePriority(p).name] = prio.get(CasePriority(p).name, 0) + n
    return {
        "by_status": status,
        "by_priority": prio,
        "tags": tags,
        "matching": {"broad": prod, "narrow": narrow, "rare": rare},
    }


class SqlCapture:
    """Record the SQL statements an engine runs, in order (to EXPLAIN or replay what the store
    issued): those SQLAlchemy executes, and the reads the store runs on the DBAPI cursor
    (``store.driver.fetch``: point reads, list pages, bulk loads)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []
        self._fetch = driver.fetch

    def _hook(self, _conn: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        self.statements.append((statement, params))

    def _fetched(self, conn: Any, sql: str, params: Any, **kw: Any) -> Any:
        self.statements.append((sql, params))
        return self._fetch(conn, sql, params, **kw)

    def __enter__(self) -> SqlCapture:
        sa.event.listen(self.engine, "before_cursor_execute", self._hook)
        driver.fetch = self._fetched  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._hook)
        driver.fetch = self._fetch  # type: ignore[assignment]


class SqlTimer:
    """Time spent in the DBAPI per statement (first words of its SQL), to split an operation's
    time into database calls and Python."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.ns: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self._t0 = 0

    def _before(self, *_: Any) -> None:
        self._t0 = time.perf_counter_ns()

    def _after(self, _conn: Any, _cur: Any, statement: str, *_: Any) -> None:
        key = " ".join(statement.split()[:4])[:60]
        self.ns[key] = self.ns.get(key, 0) + time.perf_counter_ns() - self._t0
        self.calls[key] = self.calls.get(key, 0) + 1

    def __enter__(self) -> SqlTimer:
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def report(self) -> dict[str, Any]:
        return {
            k: {"ms": round(v / 1e6, 2), "calls": self.calls[k]}
            for k, v in sorted(self.ns.items(), key=lambda x: -x[1])
        }


def explain(c: Container, p: Principal, q: CaseQuery, *, analyze: bool = False) -> str:
    """The plan of the ListCases query the store issues for ``q``."""
    with SqlCapture(c.db.engine) as cap:
        list_page(c, p, q)
    sql, params = cap.statements[-1]
    raw = c.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if is_sqlite(c.db.engine.url):
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            rows = cur.fetchall()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            return "\n".join(lines)
        opts = "ANALYZE, BUFFERS, " if analyze else ""
        cur.execute(f"EXPLAIN ({opts}COSTS OFF) " + sql, params)
        return "\n".join(r[0] for r in cur.fetchall())
    finally:
        raw.close()


def _time_list(c: Container, p: Principal, q: CaseQuery, reps: int = 5) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        list_page(c, p, q)
        times.append(time.perf_counter_ns() - t0)
    return sorted(times)[len(times) // 2] / 1e6


def _before_analyze(c: Container, key: str) -> dict[str, Any]:
    """Plans and page-1 times of the benchmark queries on fresh data, before any ANALYZE."""
    p = c.keys.authenticate(f"Bearer {key}")
    out: dict[str, Any] = {}
    for name, f in FILTERS.items():
        out[name] = {"plan": explain(c, p, query(f)), "page1_ms": _time_list(c, p, query(f))}
    return out


BULK_TABLES = (schema.case, schema.case_tag, schema.case_event)


class Deferred:
    """Drop the secondary indexes (and on PostgreSQL the unique and foreign-key constraints) of
    the bulk tables for the load, and build them again afterwards from the same schema objects,
    so they are built by sorting once instead of by a million random B-tree inserts. Checks that
    the database ends with exactly the indexes and constraints it started with."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.pg = not is_sqlite(engine.url)
        self.seconds = 0.0

    def _shape(self) -> list[Any]:
        insp = sa.inspect(self.engine)
        out: list[Any] = []
        for t in BULK_TABLES:
            out.append(sorted(i["name"] or "" for i in insp.get_indexes(t.name)))
            out.append(sorted(u["name"] or "" for u in insp.get_unique_constraints(t.name)))
            out.append(sorted(f["name"] or "" for f in insp.get_foreign_keys(t.name)))
        return out

    def _items(self) -> list[Any]:
        items: list[Any] = []
        for t in BULK_TABLES:
            items.extend(t.indexes)
            if self.pg:
                items.extend(
                    con
                    for con in t.constraints
                    if isinstance(con, sa.UniqueConstraint | sa.ForeignKeyConstraint)
                )
        return items

    def __enter__(self) -> Deferred:
        self.before = self._shape()
        with self.engine.begin() as conn:
            for item in reversed(self._items()):
                if isinstance(item, sa.Index):
                    conn.execute(sa.schema.DropIndex(item))
                else:
                    conn.execute(sa.schema.DropConstraint(item))
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            return
        t0 = time.perf_counter()
        with self.engine.begin() as conn:
            for item in self._items():
                if isinstance(item, sa.Index):
                    conn.execute(sa.schema.CreateIndex(item))
                else:
                    conn.execute(sa.schema.AddConstraint(item))
        self.seconds = time.perf_counter() - t0
        after = self._shape()
        if after != self.before:
            raise RuntimeError(f"schema changed by the load: {self.before} -> {after}")
        print(f"  indexes and constraints built in {self.seconds:.0f} s", flush=True)


def _fast_sqlite_loader(engine: sa.Engine) -> None:
    """Loader-only connection settings: a page cache big enough for the whole database, no
    fsync, no foreign-key probes. They change nothing stored; the engine is disposed after."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for pragma in ("cache_size=-4000000", "synchronous=OFF", "foreign_keys=OFF"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()


def build_sqlite(size: int, seed: int, *, force: bool = False) -> Dataset:
    DATA.mkdir(parents=True, exist_ok=True)
    name = name_of(size, seed)
    db = DATA / f"{name}.db"
    meta_path = DATA / f"{name}.json"
    url = f"sqlite:///{db}"
    if meta_path.exists() and db.exists() and not force:
        meta = json.loads(meta_path.read_text())
        return Dataset("sqlite", url, size, seed, meta["key"], meta)
    _drop_stale(size, seed, name)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    print(f"building SQLite dataset {db.name} ({size:,} cases, seed {seed})", flush=True)
    migrate.upgrade(url)
    c = bootstrap(Settings.from_env(database_url=url))
    _fast_sqlite_loader(c.db.engine)
    try:
        with Deferred(c.db.engine):
            key, space_id, load_s = _load(c, size, seed)
        c.db.engine.dispose()  # back to the server's connection settings
        with c.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pre = _before_analyze(c, key)
        t0 = time.perf_counter()
        with c.db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        analyze_s = time.perf_counter() - t0
        counts = _counts(c, space_id)
    finally:
        c.close()
    meta = {
        "backend": "sqlite",
        "name": name,
        "size": size,
        "seed": seed,
        "key": key,
        "space_id": space_id,
        "load_seconds": round(load_s, 1),
        "analyze_seconds": round(analyze_s, 2),
        "file_mb": round(db.stat().st_size / 2**20, 1),
        "before_analyze": pre,
        **counts,
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    print(f"  done in {load_s:.0f} s, {meta['file_mb']} MB", flush=True)
    return Dataset("sqlite", url, size, seed, key, meta)


def pg_url(db: str = PG_DB) -> str:
    return f"{PG_BASE}/{db}"


def _pg_admin() -> sa.Engine:
    return sa.create_engine(
        pg_url("postgres").replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )


def _copy_to_pg(src: str, url: str) -> tuple[int, float]:
    """Copy every row of the SQLite dataset into the migrated PostgreSQL database (COPY)."""
    import sqlite3

    path = sa.make_url(src).database or ""
    lite = sqlite3.connect(path)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    t0 = time.perf_counter()
    rows = 0
    try:
        with Deferred(engine):
            raw = engine.raw_connection()
            try:
                cur = raw.cursor()
                for t in schema.metadata.sorted_tables:
                    cols = [col.name for col in t.columns]
                    names = ", ".join(f'"{n}"' for n in cols)
                    sel = lite.execute(f'SELECT {names} FROM "{t.name}"')
                    with cur.copy(f'COPY "{t.name}" ({names}) FROM STDIN') as cp:
                        for row in sel:
                            cp.write_row(row)
                            rows += 1
                    auto = t.autoincrement_column
                    if auto is not None:
                        cur.execute(
                            f"SELECT setval(pg_get_serial_sequence('\"{t.name}\"', '{auto.name}'), "
                            f'coalesce((SELECT max("{auto.name}") FROM "{t.name}"), 0) + 1, false)'
                        )
                raw.commit()
            finally:
                raw.close()
    finally:
        engine.dispose()
        lite.close()
    return rows, time.perf_counter() - t0


def build_pg(size: int, seed: int, *, force: bool = False) -> Dataset:
    """PostgreSQL gets the very rows of the SQLite dataset (built through the repository first),
    copied with COPY: identical data on both backends, in a fraction of the time."""
    name = name_of(size, seed)
    admin = _pg_admin()
    meta_path = DATA / f"pg-{name}.json"
    try:
        with admin.connect() as conn:
            comment = conn.execute(
                sa.text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    "WHERE datname = :d"
                ),
                {"d": PG_DB},
            ).scalar()
        if comment == name and meta_path.exists() and not force:
            meta = json.loads(meta_path.read_text())
            return Dataset("postgresql", pg_url(), size, seed, meta["key"], meta)
    finally:
        admin.dispose()
    lite = build_sqlite(size, seed)
    print(f"building PostgreSQL dataset {PG_DB} = {name} (copy of the SQLite one)", flush=True)
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{PG_DB}"')
    finally:
        admin.dispose()
    url = pg_url()
    migrate.upgrade(url)
    rows, load_s = _copy_to_pg(lite.url, url)
    c = bootstrap(Settings.from_env(database_url=url))
    try:
        t0 = time.perf_counter()
        with c.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        analyze_s = time.perf_counter() - t0
        counts = _counts(c, lite.meta["space_id"])
        with c.db.engine.connect() as conn:
            db_mb = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        c.keys.authenticate(f"Bearer {lite.key}")  # the key works here too
    finally:
        c.close()
    meta = {
        "backend": "postgresql",
        "name": name,
        "size": size,
        "seed": seed,
        "key": lite.key,
        "space_id": lite.meta["space_id"],
        "load_seconds": round(load_s, 1),
        "rows_copied": rows,
        "analyze_seconds": round(analyze_s, 2),
        "file_mb": round((db_mb or 0) / 2**20, 1),
        **counts,
    }
    DATA.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=2))
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"COMMENT ON DATABASE \"{PG_DB}\" IS '{name}'")
    finally:
        admin.dispose()
    print(f"  done in {load_s:.0f} s, {meta['file_mb']} MB", flush=True)
    return Dataset("postgresql", url, size, seed, lite.key, meta)


def ensure(backend: str, size: int, seed: int, *, force: bool = False) -> Dataset:
    if backend == "sqlite":
        return build_sqlite(size, seed, force=force)
    return build_pg(size, seed, force=force)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "pg", "both"], default="both")
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    a = ap.parse_args()
    for backend in ("sqlite", "pg") if a.backend == "both" else (a.backend,):
        ds = ensure(backend, a.size, a.seed, force=a.force)
        m = {k: v for k, v in ds.meta.items() if k not in ("key", "before_analyze")}
        print(json.dumps(m, indent=2))


if __name__ == "__main__":
    main()
