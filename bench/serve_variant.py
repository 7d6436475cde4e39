"""``casekeeper serve`` with one setting changed, for what-if measurements (src/ stays
untouched): ``--sqlite-cache-kib`` adds a ``connect`` listener that runs after the engine's own
and overrides its cache_size; ``--gc-default`` makes serve's ``gc.freeze()`` a no-op, so full
collections walk the startup objects too, as in a plain CPython process; ``--getcase`` swaps
CasesService.GetCase for a part of itself that answers with the baseline's fixed message (the
floor of what GetCase can cost in this server: ``auth`` = the RPC wrapper alone, with its
authentication and permission check; ``read`` = that plus the service's read of the case).

    python bench/serve_variant.py --sqlite-cache-kib 8192 -- serve --grpc 127.0.0.1:50099 ...
    python bench/serve_variant.py --gc-default -- serve --grpc 127.0.0.1:50099 ...
    python bench/serve_variant.py --getcase read -- serve --grpc 127.0.0.1:50099 ...
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import sqlalchemy as sa

from casekeeper.store import engine as engine_mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sqlite-cache-kib", type=int, default=0, help="0: unchanged")
    ap.add_argument("--gc-default", action="store_true", help="no gc.freeze")
    ap.add_argument("--getcase", choices=["auth", "read"], help="GetCase floor (see above)")
    ap.add_argument("cli", nargs=argparse.REMAINDER, help="-- then the casekeeper CLI arguments")
    a = ap.parse_args()
    original = engine_mod._sqlite_engine

    def patched(url: str) -> sa.Engine:
        eng = original(url)

        @sa.event.listens_for(eng, "connect")
        def _cache(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute(f"PRAGMA cache_size=-{a.sqlite_cache_kib}")

        return eng

    if a.sqlite_cache_kib:
        engine_mod._sqlite_engine = patched
    if a.gc_default:
        import gc

        gc.freeze = lambda: None
    if a.getcase:
        _floor_getcase(a.getcase)
    from casekeeper.cli.main import main as cli_main

    sys.argv = ["casekeeper", *[x for x in a.cli if x != "--"]]
    cli_main()


def _floor_getcase(part: str) -> None:
    from empty_server import fixed_response

    from casekeeper.api.coralogix import cases as ops
    from casekeeper.api.coralogix.grpc import cases_servicer
    from casekeeper.api.coralogix.grpc.rpc import Call, rpc
    from casekeeper.api.coralogix.permissions import CASES

    fixed = fixed_response()

    def GetCase(self: Any, req: Any, call: Call) -> Any:
        if part == "read":
            ops.get_case(self.c, call.principal, req)
        return fixed

    cases_servicer.CasesServicer.GetCase = rpc(CASES)(GetCase)  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
