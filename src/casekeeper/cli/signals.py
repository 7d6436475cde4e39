"""``casekeeper signals send``: post a test signal to a running server's ``/ingest/signals``.

It goes over HTTP with an API key, exactly as a monitoring tool would, so it tests the whole
path (key, permission, grouping, the case it lands in). Without ``--dedup-key`` the key is made
from the title and labels, so sending the same command again updates the same incident and
``--status resolved`` resolves it.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Annotated, Any

import typer

from casekeeper.cli.common import console, fail

app = typer.Typer(help="Signals: send a test signal to a running server.", no_args_is_help=True)

DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT = 30.0


def labels_of(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise fail(f"--label wants NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


def default_dedup_key(title: str, labels: dict[str, str]) -> str:
    """Stable for one title and label set: the same command twice is the same alert."""
    text = json.dumps([title, sorted(labels.items())], ensure_ascii=False)
    return "cli-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def post(url: str, key: str, body: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    """POST ``body`` to ``url``'s /ingest/signals; the answer's JSON, or exit with its error."""
    target = url.rstrip("/") + "/ingest/signals" + ("?dry_run=true" if dry_run else "")
    if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
        raise fail(f"--url must be an http(s) address, got {url!r}")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        target,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "authorization": f"Bearer {key}",
            "content-type": "application/json",
            "user-agent": "casekeeper-cli",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            message = json.loads(raw).get("message") or raw.decode(errors="replace")
        except ValueError:
            message = raw.decode(errors="replace")[:500]
        raise fail(f"{err.code}: {message}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise fail(f"cannot reach {url}: {reason} (is `casekeeper serve` running?)") from None


def show(answer: dict[str, Any]) -> None:
    prefix = "dry run: would be " if answer.get("dry_run") else ""
    for o in answer.get("outcomes", []):
        console.print(f"{prefix}[bold]{o['action']}[/bold] ({o['dedup_key']}): {o['reason']}")
        case = o.get("case_readable_id") or o.get("case_id")
        if case:
            console.print(f"  case {case}" + (" (new)" if o.get("new_case") else ""))
        if o.get("incident_id"):
            console.print(f"  incident {o['incident_id']}")
        if o.get("group_key"):
            console.print(f"  group {o['group_key']}")
        if o.get("priority"):
            why = f": {o['priority_reason']}" if o.get("priority_reason") else ""
            console.print(f"  priority {o['priority']}{why}")


@app.command("send")
def send(
    title: Annotated[str, typer.Option("--title", help="What is wrong (the incident's name).")],
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="NAME=VALUE; repeat for each.")
    ] = None,
    status: Annotated[
        str, typer.Option("--status", help="firing or resolved.", case_sensitive=False)
    ] = "firing",
    dedup_key: Annotated[
        str | None,
        typer.Option("--dedup-key", help="Identifies the alert [default: from title and labels]."),
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help="e.g. critical, warning, info.")
    ] = None,
    url: Annotated[str, typer.Option("--url", help="The server's HTTP address.")] = DEFAULT_URL,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            envvar="CASEKEEPER_API_KEY",
            show_envvar=True,
            help="An API key with signals:Write.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would happen; store nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's answer.")] = False,
) -> None:
    """Send one signal to a running server and print what it did."""
    if not key:
        raise fail("an API key is needed: --key or CASEKEEPER_API_KEY (signals:Write)")
    status = status.strip().lower()
    if status not in ("firing", "resolved"):
        raise fail(f"--status is firing or resolved, not {status!r}")
    labels = labels_of(label or [])
    signal: dict[str, Any] = {
        "dedup_key": dedup_key or default_dedup_key(title, labels),
        "status": status,
        "title": title,
        "labels": labels,
    }
    if severity:
        signal["severity"] = severity
    answer = post(url, key, {"source": "casekeeper-cli", "signals": [signal]}, dry_run)
    if as_json:
        print(json.dumps(answer))
        return
    show(answer)
