"""``casekeeper connectors …``: where a space's notifications go, from a terminal
(docs/NOTIFICATIONS_CLI.md). Secrets go in by ``--secret-stdin`` or ``--secret-env`` and never
come out: listings show ``stored``, ``env:VAR`` or ``none``."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Annotated, Any

import typer
from rich.table import Table

from casekeeper.cli.common import (
    DatabaseOpt,
    JsonOpt,
    SpaceOpt,
    console,
    container_for,
    fail,
    operator,
    print_json,
    run,
)
from casekeeper.domain.notifications import Connector
from casekeeper.domain.timeutil import to_rfc3339
from casekeeper.service.auth import DEFAULT_SPACE
from casekeeper.service.notify_config import ConnectorInput

app = typer.Typer(help="Notification connectors: where messages go.", no_args_is_help=True)

# The options create and update share; update changes only those given.
RefArg = Annotated[str, typer.Argument(help="The connector's id or name.")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="Where to send (not for email).")]
SecretEnvOpt = Annotated[
    str | None, typer.Option("--secret-env", help="A variable the worker reads the secret from.")
]
SecretStdinOpt = Annotated[
    bool, typer.Option("--secret-stdin", help="Read the secret from standard input (one line).")
]
SmtpOpt = Annotated[str | None, typer.Option("--smtp", help="E-mail: HOST:PORT.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="E-mail: the sender.")]
ToOpt = Annotated[list[str] | None, typer.Option("--to", help="E-mail: repeat per recipient.")]
UsernameOpt = Annotated[str | None, typer.Option("--username", help="E-mail: AUTH user.")]
HeaderOpt = Annotated[
    list[str] | None, typer.Option("--header", help="Webhook: NAME=TEMPLATE, repeatable.")
]
BodyOpt = Annotated[
    str | None,
    typer.Option("--body-template", help="Webhook: a file with the body template, - for stdin."),
]


def connector_json(c: Connector) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id, "name": c.name, "type": c.kind.value, "url": c.url,
        "secret": c.secret.shown, "enabled": c.enabled,
        "createTime": to_rfc3339(c.create_time), "updateTime": to_rfc3339(c.update_time),
    }  # fmt: skip
    if c.email is not None:
        e = c.email
        out["email"] = {"smtp": f"{e.smtp_host}:{e.smtp_port}", "from": e.sender,
                        "to": list(e.recipients), "starttls": e.starttls,
                        "username": e.username}  # fmt: skip
    if c.webhook is not None:
        out["bodyTemplate"] = c.webhook.body_template
        out["headerTemplates"] = dict(c.webhook.header_templates)
    return out


def _input(
    url: str | None, secret_env: str | None, secret_stdin: bool, smtp: str | None,
    sender: str | None, to: list[str] | None, username: str | None, header: list[str] | None,
    body_template: str | None,
) -> ConnectorInput:  # fmt: skip
    """The shared options as a ConnectorInput; standard input is read here, at most once."""
    if secret_stdin and body_template == "-":
        raise fail("--secret-stdin and --body-template - cannot both read standard input")
    secret = None
    if secret_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise fail("--secret-stdin: nothing was read from standard input")
    headers = None
    if header:
        pairs = [h.partition("=") for h in header]
        if any(not sep or not k for k, sep, _ in pairs):
            raise fail("--header takes NAME=TEMPLATE")
        headers = tuple((k, v) for k, _, v in pairs)
    body = None
    if body_template == "-":
        body = sys.stdin.read()
    elif body_template is not None:
        try:
            with open(body_template) as fh:
                body = fh.read()
        except OSError as exc:
            raise fail(f"--body-template: {exc.strerror}: {body_template}") from None
    return ConnectorInput(
        url=url, secret_env=secret_env, secret=secret, smtp=smtp, sender=sender,
        recipients=tuple(to) if to else None, username=username, body_template=body,
        header_templates=headers,
    )  # fmt: skip


@app.command("create")
def create_connector(
    name: Annotated[str, typer.Option("--name", help="Unique in the space.")],
    kind: Annotated[
        str, typer.Option("--type", help="webhook, slack, teams, mattermost, pagerduty or email.")
    ],
    url: UrlOpt = None,
    secret_env: SecretEnvOpt = None,
    secret_stdin: SecretStdinOpt = False,
    smtp: SmtpOpt = None,
    sender: FromOpt = None,
    to: ToOpt = None,
    starttls: Annotated[bool, typer.Option("--starttls", help="E-mail: STARTTLS.")] = False,
    username: UsernameOpt = None,
    header: HeaderOpt = None,
    body_template: BodyOpt = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Create a connector; with --json, print it as one JSON object (its ``id`` included)."""
    inp = replace(
        _input(url, secret_env, secret_stdin, smtp, sender, to, username, header, body_template),
        name=name, kind=kind, starttls=starttls if smtp else None, enabled=not disabled,
    )  # fmt: skip
    with container_for(database_url) as c:
        made = run(lambda: c.connectors.create(operator(c, space), inp))
    if as_json:
        print_json(connector_json(made))
        return
    console.print(f"connector [bold]{made.name}[/bold] ({made.kind}) created: {made.id}")


@app.command("update")
def update_connector(
    ref: RefArg,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    url: UrlOpt = None,
    secret_env: SecretEnvOpt = None,
    secret_stdin: SecretStdinOpt = False,
    clear_secret: Annotated[bool, typer.Option("--clear-secret", help="Drop the secret.")] = False,
    smtp: SmtpOpt = None,
    sender: FromOpt = None,
    to: ToOpt = None,
    starttls: Annotated[
        bool | None, typer.Option("--starttls/--no-starttls", help="E-mail: STARTTLS.")
    ] = None,
    username: UsernameOpt = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", help="Webhook: NAME=TEMPLATE, repeatable; replaces them all."),
    ] = None,
    body_template: Annotated[
        str | None,
        typer.Option("--body-template", help="Webhook: a file, - for stdin; an empty one clears."),
    ] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Switch it on or off.")
    ] = None,
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Change a connector: only the options given (its type cannot change)."""
    inp = replace(
        _input(url, secret_env, secret_stdin, smtp, sender, to, username, header, body_template),
        name=name, clear_secret=clear_secret, starttls=starttls, enabled=enabled,
    )  # fmt: skip
    with container_for(database_url) as c:
        new = run(lambda: c.connectors.update(operator(c, space), ref, inp))
    if as_json:
        print_json(connector_json(new))
        return
    state = "enabled" if new.enabled else "disabled"
    console.print(f"connector [bold]{new.name}[/bold] ({new.kind}) updated, {state}: {new.id}")


@app.command("list")
def list_connectors(
    space: SpaceOpt = DEFAULT_SPACE, as_json: JsonOpt = False, database_url: DatabaseOpt = None
) -> None:
    """List the space's connectors (never their secrets)."""
    with container_for(database_url) as c:
        rows = run(lambda: c.connectors.list_connectors(operator(c, space)))
    if as_json:
        print_json([connector_json(x) for x in rows])
        return
    table = Table("id", "name", "type", "url", "secret", "enabled")
    for x in rows:
        where = x.url or (
            f"smtp {x.email.smtp_host}:{x.email.smtp_port}" if x.email else "(secret)"
        )
        table.add_row(
            x.id, x.name, x.kind.value, where, x.secret.shown, "yes" if x.enabled else "no"
        )
    console.print(table)


@app.command("test")
def send_test(
    ref: RefArg,
    space: SpaceOpt = DEFAULT_SPACE,
    as_json: JsonOpt = False,
    database_url: DatabaseOpt = None,
) -> None:
    """Send a test notification now (outside the ledger); exit 1 if it failed."""
    with container_for(database_url) as c:
        outcome = run(lambda: c.connectors.test(operator(c, space), ref))
    if as_json:
        o = outcome
        print_json({"ok": o.ok, "error": o.error, "statusCode": o.status_code,
                    "durationMs": o.duration_ms, "evidenceUrl": o.evidence_url})  # fmt: skip
    elif outcome.ok:
        console.print(f"delivered in {outcome.duration_ms} ms (status {outcome.status_code})")
    else:
        console.print(f"failed: {outcome.error}", soft_wrap=True)
    if not outcome.ok:
        raise typer.Exit(1)


@app.command("delete")
def delete_connector(
    ref: RefArg,
    space: SpaceOpt = DEFAULT_SPACE,
    database_url: DatabaseOpt = None,
) -> None:
    """Delete a connector no route uses."""
    with container_for(database_url) as c:
        run(lambda: c.connectors.delete(operator(c, space), ref))
    console.print(f"deleted {ref}")
