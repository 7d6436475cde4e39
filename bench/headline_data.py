"""The headline benchmark's dataset (bench/headline.py): bench/dataset.py's cases with comments
added until the timeline holds the events asked for, built once and cached (``headline-*`` in
bench/.data, database casekeeper_headline on PostgreSQL); each run works on a copy."""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import orjson
import sqlalchemy as sa
from common import DATA, PG_BASE
from dataset import Dataset, _copy_to_pg, _pg_admin, ensure

from casekeeper.domain import events as ev
from casekeeper.domain import timeline as tl
from casekeeper.store import migrate

COMMENT_NS = uuid.UUID("0b9a7f0e-6c1d-4f7e-9a43-5be4c0de0002")
HEADLINE_PG = "casekeeper_headline"
RUN_PG = "casekeeper_headline_run"


def _add_comments(ds: Dataset, url: str, events: int) -> int:
    """Comments on every case, spread evenly, until the timeline holds ``events`` events."""
    c = Dataset(ds.backend, url, ds.size, ds.seed, ds.key, ds.meta).container()
    try:
        with c.db.reader() as uow:
            have = uow.conn.execute(sa.text("SELECT count(*) FROM case_event")).scalar_one()
            cases = uow.conn.execute(
                sa.text('SELECT id, space_id, create_time FROM "case" ORDER BY create_time')
            ).all()
        missing = events - have
        per_case, extra = divmod(max(0, missing), len(cases))
        actor = ev.Actor.api_key("bench", "bench")
        batch: list[ev.CaseEvent] = []
        made, t0 = 0, time.perf_counter()
        for n, (case_id, space_id, created) in enumerate(cases):
            for k in range(per_case + (1 if n < extra else 0)):
                at = created + (k + 1) * 60_000_000
                batch.append(ev.CaseEvent(
                    event_id=str(uuid.uuid5(COMMENT_NS, f"{case_id}/{k}")), case_id=case_id,
                    space_id=space_id, data=tl.Comment(f"note {k}: checked the dashboards"),
                    actor=actor, create_time=at, event_time=at,
                ))  # fmt: skip
            if len(batch) >= 20_000:
                with c.db.writer() as uow:
                    uow.events.add_many(batch)
                    uow.commit()
                made += len(batch)
                batch = []
                if made % 1_000_000 < 20_000:
                    print(f"  {made:,} comments ({made / (time.perf_counter() - t0):,.0f}/s)")
        with c.db.writer() as uow:
            uow.events.add_many(batch)
            uow.commit()
        return have + made + len(batch)
    finally:
        c.close()


def headline_dataset(backend: str, size: int, seed: int, events: int) -> tuple[Dataset, int]:
    """The cached dataset with ``events`` timeline events, on SQLite (a file) or PostgreSQL
    (database casekeeper_headline, a COPY of the SQLite one, like bench/dataset.py's)."""
    lite = ensure("sqlite", size, seed)
    name = f"headline-{Path(lite.url).stem.split('///')[-1]}-e{events}"
    path = DATA / f"{name}.db"
    meta = DATA / f"{name}.json"
    if not meta.exists():
        print(f"building {name}: adding comments to a copy of the dataset", flush=True)
        shutil.copyfile(lite.url.removeprefix("sqlite:///"), path)
        total = _add_comments(lite, f"sqlite:///{path}", events)
        meta.write_text(orjson.dumps({"events": total}).decode())
    total = int(orjson.loads(meta.read_bytes())["events"])
    hd = Dataset("sqlite", f"sqlite:///{path}", size, seed, lite.key, lite.meta)
    if backend == "sqlite":
        return hd, total
    admin = _pg_admin()
    with admin.connect() as conn:
        comment = conn.execute(sa.text(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :d"
        ), {"d": HEADLINE_PG}).scalar()  # fmt: skip
        url = f"{PG_BASE}/{HEADLINE_PG}"
        if comment != name:
            print(f"building {HEADLINE_PG} = {name} (COPY of the SQLite one)", flush=True)
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{HEADLINE_PG}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{HEADLINE_PG}"')
            migrate.upgrade(url)
            _copy_to_pg(hd.url, url)
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c2:
                c2.exec_driver_sql("VACUUM ANALYZE")
            engine.dispose()
            conn.exec_driver_sql(f"COMMENT ON DATABASE \"{HEADLINE_PG}\" IS '{name}'")
    admin.dispose()
    return Dataset("postgresql", url, size, seed, lite.key, lite.meta), total


def working_copy(hd: Dataset) -> str:
    """A copy the run may write into, so every run starts from the same data."""
    if hd.backend == "sqlite":
        src = Path(hd.url.removeprefix("sqlite:///"))
        dst = DATA / "headline-run.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{dst}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(src, dst)
        return f"sqlite:///{dst}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{RUN_PG}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{RUN_PG}" TEMPLATE "{HEADLINE_PG}"')
    admin.dispose()
    return f"{PG_BASE}/{RUN_PG}"
