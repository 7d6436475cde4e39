"""Tracecat's cases API under load, with the session cookie of a real login: ``GET
/cases/{id}?workspace_id=…`` (rotating over 20,000 random case ids) and ``GET
/cases?workspace_id=…&limit=50``, each against a Starlette hello-world on the same server
settings (``starlette_hello.py``), all loaded by ``wrk`` (1 thread, 32 keep-alive connections)
in the same run. Per repetition, the three in alternating order: a ``--warmup`` s run, then a
``--duration`` s measured run. Reported: req/s (median), latency, server CPU µs per request,
and the ratios to the baseline and to Tracecat's own figures (issue 16: Tracecat at 100,000
cases serves ``GET /cases/{id}`` at about 54 req/s and a page of 50 at about 22 req/s on these
machines; the target is 50 times those at 1,000,000 cases).

wrk: ``apt-get install -y wrk``.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from common import (
    BENCH,
    CASEKEEPER,
    DATA,
    HOST,
    IDLE_WAIT,
    PYTHON,
    free_port,
    machine_info,
    process,
    step_args,
    wait_grpc,
    wait_idle,
    write_result,
)
from dataset import ensure
from grpc_getcase import sample_ids, warm_cache
from rest_getcase import LUA, load, need_wrk, serve_rest_argv, summarize, wait_http

USER = "bench-analyst"
PASSWORD = "bench-analyst-password"
TRACECAT = {"get": 54.0, "list50": 22.0}  # req/s, issue 16
TARGET_FACTOR = 50.0


def _cli(url: str, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run([CASEKEEPER, *args, "--database-url", url], input=stdin,
                         capture_output=True, text=True, check=False)  # fmt: skip
    if out.returncode != 0 and "exists" not in out.stdout + out.stderr:
        raise RuntimeError(f"casekeeper {' '.join(args)}: {out.stdout} {out.stderr}")
    return out.stdout


def workspace(url: str) -> str:
    spaces = json.loads(_cli(url, "spaces", "list", "--json"))
    (bench,) = [s for s in spaces if s["name"] == "bench"]
    return str(bench["uuid"])


def session_cookie(port: int) -> str:
    form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    req = urllib.request.Request(
        f"http://{HOST}:{port}/auth/login", data=form, method="POST", headers=headers
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        cookie = r.headers["set-cookie"].split(";")[0]
    return cookie


def script(path: Path, ids: list[str], cookie: str, request: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = LUA.replace('["Authorization"] = "Bearer %(key)s"', '["Cookie"] = "%(key)s"')
    path.write_text(text % {"ids": ",".join(json.dumps(i) for i in ids), "key": cookie,
                            "request": request})  # fmt: skip
    return path


def check(port: int, path: str, cookie: str) -> int:
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    json.loads(body)
    return len(body)


def main() -> None:
    ap = step_args(__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--connections", type=int, default=32)
    a = ap.parse_args()
    need_wrk()
    ds = ensure(a.backend, a.size, a.seed)
    print(f"Tracecat API on {ds.backend}, {ds.size:,} cases", flush=True)
    _cli(ds.url, "users", "create", "--username", USER, "--role", "viewer", "--space", "bench",
         "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    ws = workspace(ds.url)
    ids = sample_ids(ds, 20_000, ds.seed + 11)
    warm_cache(ds, ids)
    gport, hport, bport = free_port(), free_port(), free_port()
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "get": [], "list50": []}
    sizes: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(process(
            [PYTHON, str(BENCH / "starlette_hello.py"), "--port", str(bport)], "starlette-hello",
            lambda: wait_http(f"http://{HOST}:{bport}/"),
        ))  # fmt: skip

        def ready() -> None:
            wait_grpc(f"{HOST}:{gport}", timeout=120)
            wait_http(f"http://{HOST}:{hport}/healthz")

        real = stack.enter_context(
            process(serve_rest_argv(ds.url, gport, hport), f"tracecat-{ds.backend}", ready)
        )
        cookie = session_cookie(hport)
        get_path = f"/cases/{ids[0]}?workspace_id={ws}"
        list_path = f"/cases?workspace_id={ws}&limit=50"
        sizes = {"get": check(hport, get_path, cookie), "list50": check(hport, list_path, cookie)}
        tag = f"{ds.backend}-{ds.size}"
        scripts = {
            "baseline": (bport, base.pid, script(
                DATA / "tracecat-hello.lua", ids[:1], cookie,
                'return wrk.format("GET", "/", hdr)')),
            "get": (hport, real.pid, script(
                DATA / f"tracecat-get-{tag}.lua", ids, cookie,
                f'i = i % n + 1\n  return wrk.format("GET", "/cases/" .. ids[i] .. '
                f'"?workspace_id={ws}", hdr)')),
            "list50": (hport, real.pid, script(
                DATA / f"tracecat-list-{tag}.lua", ids[:1], cookie,
                f'return wrk.format("GET", "{list_path}", hdr)')),
        }  # fmt: skip
        names = list(scripts)
        for rep in range(a.reps):
            for name in names[rep % 3 :] + names[: rep % 3]:
                port, pid, lua = scripts[name]
                wait_idle(timeout=IDLE_WAIT)
                r = load(port, pid, lua, a)
                runs[name].append(r)
                print(f"  rep {rep + 1} {name:8s} {r['rps']:7.0f} req/s  server "
                      f"{r['server_cpu_us_per_req']:.0f} µs/req  p50 {r['p50_ms']:.2f} ms  "
                      f"errors {r['errors']} non-2xx {r['non_2xx']}", flush=True)  # fmt: skip
    res: dict[str, Any] = {
        "backend": ds.backend, "size": ds.size, "reps": a.reps, "duration": a.duration,
        "connections": a.connections, "machine": machine_info(), "response_bytes": sizes,
        "tracecat_rps": TRACECAT, "target_factor": TARGET_FACTOR,
    }  # fmt: skip
    base_s = summarize(runs["baseline"])
    res["baseline"] = base_s
    for name in ("get", "list50"):
        s = summarize(runs[name])
        s["ratio_to_baseline"] = s["rps"] / base_s["rps"]
        s["times_tracecat"] = s["rps"] / TRACECAT[name]
        res[name] = s
        print(
            f"  {name}: {s['rps']:.0f} req/s = {s['times_tracecat']:.0f}x Tracecat, "
            f"{s['ratio_to_baseline']:.2f}x the hello-world ({base_s['rps']:.0f} req/s)"
        )
    write_result(a.out, "tracecat", res)


if __name__ == "__main__":
    main()
