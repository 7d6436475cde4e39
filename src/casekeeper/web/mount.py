"""The console as the HTTP app mounts it: every page under ``/ui``, each answered as HTML
(refusals too), behind a strict Content-Security-Policy."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from casekeeper.api.routes import Endpoint, by_path
from casekeeper.bootstrap import Container
from casekeeper.domain.errors import CATALOG, CasekeeperError, ErrorCode
from casekeeper.web import auth, case_page, incidents, present, queue, settings, settings_notify
from casekeeper.web.assets import Assets
from casekeeper.web.http import BASE as BASE
from casekeeper.web.http import Console, Env, Handler

NAME: Final = "web"
PREFIXES: Final = (BASE,)
TEMPLATES: Final = Path(__file__).parent / "templates"
# No inline script or style anywhere: the pages load only this server's hashed assets.
CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

PAGES: Final[tuple[tuple[str, str, Handler], ...]] = (
    ("GET", "/", queue.queue),
    ("GET", "/cases/{ref}", case_page.case_page),
    ("GET", "/incidents", incidents.incidents),
    ("GET", "/incidents/{id}", incidents.incident),
    ("GET", "/settings", settings.case_settings),
    ("GET", "/settings/notifications", settings_notify.notifications),
    ("GET", "/settings/users", settings.users),
    ("GET", "/settings/keys", settings.keys),
)
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (
    ("/logout", auth.logout),
    ("/space", auth.switch_space),
    ("/bulk", queue.bulk),
    ("/views", queue.save_view),
    ("/views/delete", queue.delete_view),
    ("/cases/{ref}/do", case_page.act),
    ("/cases/{ref}/comments", case_page.comment),
    ("/cases/{ref}/comments/{event}/edit", case_page.edit_comment),
    ("/cases/{ref}/comments/{event}/delete", case_page.delete_comment),
    ("/cases/{ref}/deliveries/{delivery}/replay", case_page.replay),
    ("/incidents/{id}/do", incidents.act),
    ("/settings", settings.save_case_settings),
    ("/settings/connectors", settings_notify.connector_action),
    ("/settings/routes", settings_notify.route_action),
    ("/settings/users", settings.user_action),
    ("/settings/keys", settings.key_action),
)


def environment(assets: Assets) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset=assets.url, base=BASE, status_label=present.STATUS,
                       status_slug=present.STATUS_SLUG)  # fmt: skip
    env.filters.update(when=present.when, iso=present.iso, ago=present.ago, span=present.span,
                       prio=present.priority)  # fmt: skip
    return env


def build(c: Container) -> tuple[Console, auth.Login, Assets]:
    assets = Assets(BASE)
    jinja = environment(assets)

    def render(template: str, **context: Any) -> str:
        return jinja.get_template(template).render(**context)

    env = Env(assets, render)
    return Console(c, env), auth.Login(c, env), assets


def _secured(endpoint: Endpoint) -> Endpoint:
    async def run(request: Request) -> Response:
        response = await endpoint(request)
        response.headers.update(SECURITY_HEADERS)
        if "cache-control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"  # pages hold a user's data
        return response

    return run


def routes(c: Container) -> Sequence[BaseRoute]:
    console, login, assets = build(c)
    table: list[tuple[str, str, Endpoint]] = [
        ("GET", BASE + "/login", login.show),
        ("POST", BASE + "/login", login.submit),
    ]
    table += [(m, BASE + path, console.page(h)) for m, path, h in PAGES]
    table += [("POST", BASE + path, console.page(h, write=True)) for path, h in ACTIONS]
    out: list[BaseRoute] = [*by_path(((m, p, _secured(e)) for m, p, e in table), NAME)]
    out.append(Route(BASE + "/static/{name}", assets.serve, methods=["GET"], name="web static"))
    out.append(Route(BASE, _to_queue, methods=["GET"], name="web root"))
    return out


async def _to_queue(_: Request) -> Response:
    return RedirectResponse(BASE + "/", 308)


def error_shape(err: CasekeeperError) -> Response:
    """A refusal no page rendered (an unknown page, a wrong method, a body too large)."""
    status = CATALOG.get(err.code, CATALOG[ErrorCode.INTERNAL]).http_status
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>casekeeper</title>"
        f"<h1>{status}</h1><p>{html.escape(err.message)}</p><p><a href={BASE}/>Back to the "
        "queue</a></p></html>"
    )
    return HTMLResponse(body, status, headers=SECURITY_HEADERS)
