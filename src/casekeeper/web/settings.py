"""Settings pages: the case lifecycle in force, connectors and routes (with a test send),
users and roles, and API keys (a new key is shown once). Each page asks its service, which
decides who may see and change what."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from starlette.responses import Response

from casekeeper.domain.errors import CasekeeperError, invalid
from casekeeper.service.case_settings import SettingsChange
from casekeeper.service.users import ROLE_PERMISSIONS, Role
from casekeeper.web.http import BASE, Page, redirect

SETTINGS: Final = BASE + "/settings"
MICROS: Final = 1_000_000
# The lifecycle's periods the form edits, in minutes: (field, label).
PERIODS: Final = (
    ("suppression_period", "Wait before a new case becomes active"),
    ("resolution_snooze_period", "A re-firing alert rejoins its resolved case within"),
    ("post_resolution_period", "Close resolved cases after"),
    ("inactive_period", "Resolve cases without news after (empty: never)"),
)


def case_settings(page: Page) -> Response:
    found = page.c.case_settings.in_force(page.p)
    life = found.lifecycle
    minutes = {name: (None if getattr(life, name) is None else getattr(life, name) // 60_000_000)
               for name, _ in PERIODS}  # fmt: skip
    return page.render("settings_case.html", settings=found, periods=PERIODS, minutes=minutes,
                       tab="case")  # fmt: skip


def _minutes(page: Page, name: str, *, optional: bool = False) -> int | None:
    raw = page.field(name)
    if raw is None:
        if optional:
            return None
        raise invalid("give a number of minutes", field=name)
    if not raw.isdigit() or int(raw) > 525_600:
        raise invalid("a whole number of minutes, at most a year", field=name)
    return int(raw) * 60 * MICROS


def save_case_settings(page: Page) -> Response:
    try:
        old = page.c.case_settings.in_force(page.p)
        life = replace(
            old.lifecycle, auto_resolve=page.field("auto_resolve") == "on",
            suppression_period=_minutes(page, "suppression_period") or 0,
            resolution_snooze_period=_minutes(page, "resolution_snooze_period") or 0,
            post_resolution_period=_minutes(page, "post_resolution_period") or 0,
            inactive_period=_minutes(page, "inactive_period", optional=True),
        )  # fmt: skip
        change = SettingsChange(
            lifecycle=life, indicators_enabled=page.field("indicators_enabled") == "on",
            filters=old.filters,
        )  # fmt: skip
        page.c.case_settings.configure(page.p, change)
    except CasekeeperError as err:
        return redirect(SETTINGS, "error", err.message)
    return redirect(SETTINGS, "ok", "case settings saved")


def users(page: Page) -> Response:
    found = page.c.users.list_users(page.p, page.p.space_name)
    return page.render("settings_users.html", users=found, roles=[r.value for r in Role],
                       tab="users")  # fmt: skip


def user_action(page: Page) -> Response:
    back = SETTINGS + "/users"
    c, p = page.c, page.p
    action = page.field("action") or ""
    username = page.field("username") or ""
    try:
        match action:
            case "create":
                c.users.create(
                    p, username=username, password=page.field("password") or "",
                    space=p.space_name, role=page.field("role") or "viewer",
                    email=page.field("email"), full_name=page.field("full_name"),
                )  # fmt: skip
            case "disable" | "enable":
                c.users.set_disabled(p, username, action == "disable")
            case "role":
                role = page.field("role")
                c.users.set_role(p, username, p.space_name, None if role == "none" else role)
            case _:
                raise invalid(f"unknown action {action[:40]!r}")
    except CasekeeperError as err:
        return redirect(back, "error", err.message)
    return redirect(back, "ok", f"user {username}: {action} done")


def keys(page: Page) -> Response:
    found = page.c.keys.list(page.p, include_revoked=True)
    return page.render("settings_keys.html", keys=found, roles=[r.value for r in Role],
                       new_key=None, tab="keys")  # fmt: skip


def key_action(page: Page) -> Response:
    back = SETTINGS + "/keys"
    c, p = page.c, page.p
    action = page.field("action") or ""
    try:
        if action == "create":
            role = Role(page.field("role") or "viewer")
            new = c.keys.create(
                name=page.field("name") or "", space=p.space_name, granted_by=p,
                permissions=sorted(x.value for x in ROLE_PERMISSIONS[role]),
            )  # fmt: skip
            found = c.keys.list(p, include_revoked=True)
            # Shown on this response only: the server keeps just its digest.
            response = page.render("settings_keys.html", keys=found, new_key=new.key,
                                   roles=[r.value for r in Role], tab="keys")  # fmt: skip
            response.headers["Cache-Control"] = "no-store"
            return response
        if action == "revoke":
            c.keys.revoke(p, page.field("id") or "")
            return redirect(back, "ok", "the key is revoked")
        raise invalid(f"unknown action {action[:40]!r}")
    except ValueError:
        return redirect(back, "error", "choose a role: viewer, responder or admin")
    except CasekeeperError as err:
        return redirect(back, "error", err.message)
