"""The console in a real Chromium: a responder's whole round (log in, filter, open, assign,
acknowledge, comment, resolve, close, log out), live updates from an alert and from a
colleague, a viewer's page and a forged post, the keyboard, phones, and screenshots."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from casekeeper.bootstrap import Container
from casekeeper.domain import commands as cmd
from casekeeper.domain.commands import CaseChange
from tests.api.tracecat.conftest import PASSWORD, make_user
from tests.conftest import MakeCase, MakeKey
from tests.web.browser import screenshot_dir

LIVE_TIMEOUT = 15_000  # ms: an update must arrive without a reload well within this


def log_in(ctx: Any, base_url: str, username: str) -> Any:
    page = ctx.new_page()
    page.goto(base_url + "/ui/")
    assert "/ui/login" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/ui/$"))
    return page


def timeline(page: Any) -> str:
    return str(page.inner_text("#timeline"))


def test_a_responder_works_a_case_from_the_queue_to_closed(
    contexts: Any, base_url: str, container: Container, space: str, make_case: MakeCase
) -> None:
    case = make_case(title="Checkout latency above SLO", priority=1, labels={"team": "payments"})
    make_case(title="Nightly backup slow", priority=4)
    page = log_in(contexts(), base_url, make_user(container, space, "responder"))
    # Filter by a facet, then open the case.
    page.click('a[data-facet="priority:P1"]')
    page.wait_for_url(re.compile(r"priority=P1"))
    assert page.locator("tr[data-row]").count() == 1
    page.click(f"text={case.readable_id}")
    page.wait_for_selector("#case-title")
    assert page.inner_text("#case-title") == "Checkout latency above SLO"
    page.click('button[data-action="assign-me"]')
    assert "assigned Test User" in timeline(page)
    page.keyboard.press("a")  # the keyboard's acknowledge
    page.wait_for_selector("#case-status:has-text('Acknowledged')")
    assert "from Active to Acknowledged" in timeline(page)
    page.fill("#comment-text", "Rolled back the 14:02 deploy")
    page.click("#comment-form button[type=submit]")
    assert "Rolled back the 14:02 deploy" in timeline(page)
    page.fill("#reason", "deploy rolled back")
    page.click('button[data-action="resolve"]')
    assert "from Acknowledged to Resolved" in timeline(page)
    page.once("dialog", lambda d: d.accept())  # "Close CASE-n?"
    page.click('button[data-action="close"]')
    page.wait_for_selector("#case-status:has-text('Closed')")
    assert "from Resolved to Closed" in timeline(page)
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/ui/login$"))
    page.goto(base_url + "/ui/")
    assert "/ui/login" in page.url


def test_an_alert_appears_in_an_open_queue_without_a_reload(
    contexts: Any, base_url: str, container: Container, space: str, make_key: MakeKey
) -> None:
    key, _ = make_key("signals:Write", "case:Read")
    page = log_in(contexts(), base_url, make_user(container, space, "viewer"))
    page.wait_for_selector("body[data-live='on']", state="attached", timeout=LIVE_TIMEOUT)
    signal = {"dedup_key": "db-disk", "title": "Disk 97% full on db-7",
              "labels": {"service": "db", "severity": "critical"}}  # fmt: skip
    r = httpx.post(f"{base_url}/ingest/signals", json={"source": "e2e", "signals": [signal]},
                   headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert r.status_code == 200, r.text
    page.wait_for_selector("text=Disk 97% full on db-7", timeout=LIVE_TIMEOUT)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_colleagues_acknowledgement_appears_on_the_case_page(
    contexts: Any, base_url: str, container: Container, space: str, make_case: MakeCase
) -> None:
    case = make_case(title="Queue consumers lagging")
    url = f"{base_url}/ui/cases/{case.readable_id}"
    first = log_in(contexts(), base_url, make_user(container, space, "responder"))
    first.goto(url)
    first.wait_for_selector("body[data-live='on']", state="attached", timeout=LIVE_TIMEOUT)
    second = log_in(contexts(), base_url, make_user(container, space, "responder"))
    second.goto(url)
    second.click('button[data-action="acknowledge"]')
    first.wait_for_selector("#case-status:has-text('Acknowledged')", timeout=LIVE_TIMEOUT)
    assert "from Active to Acknowledged" in timeline(first)


def test_a_viewer_sees_no_actions_and_a_forged_post_is_refused(
    contexts: Any, base_url: str, container: Container, space: str, make_case: MakeCase
) -> None:
    case = make_case()
    page = log_in(contexts(), base_url, make_user(container, space, "viewer"))
    page.goto(f"{base_url}/ui/cases/{case.readable_id}")
    assert page.locator("button[data-action]").count() == 0
    assert page.locator("#comment-form").count() == 0
    action = f"{base_url}/ui/cases/{case.readable_id}/do"
    forged = page.request.post(action, form={"action": "acknowledge"}, max_redirects=0)
    assert forged.status == 403  # no CSRF token
    token = page.get_attribute('form[action="/ui/logout"] input[name=csrf]', "value")
    denied = page.request.post(action, form={"action": "acknowledge", "csrf": token},
                               max_redirects=0)  # fmt: skip
    assert denied.status == 303  # back to the case, saying why
    page.reload()
    assert "lacks the permission" in page.inner_text(".flash")
    assert page.inner_text("#case-status") == "Active"


def test_the_help_shows_the_shortcuts_and_j_k_walk_the_queue(
    contexts: Any, base_url: str, container: Container, space: str, make_case: MakeCase
) -> None:
    made = [make_case(title=f"Walk {n}", priority=2) for n in range(3)]
    page = log_in(contexts(), base_url, make_user(container, space, "viewer"))
    page.keyboard.press("?")
    assert page.is_visible("#help")
    assert "acknowledge" in page.inner_text("#help")
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    first = page.get_attribute("tr.current", "data-ref")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(rf".*/ui/cases/{first}$"))
    assert first in {c.readable_id for c in made}


@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots_and_no_sideways_scrolling(
    contexts: Any, base_url: str, container: Container, space: str, make_case: MakeCase,
    width: int,
) -> None:  # fmt: skip
    titles = [("Checkout p99 latency above 800 ms", 1, {"service": "checkout"}),
              ("Replica lag on orders-db above 30 s", 2, {"service": "orders-db"}),
              ("Certificate for api.example.com expires in 7 days", 3, {"service": "edge"}),
              ("Error budget burn: search 2% in 1 h", 2, {"service": "search"}),
              ("Nightly backup slower than usual", 4, {"service": "backup"})]  # fmt: skip
    made = [make_case(title=t, priority=p, labels=labels) for t, p, labels in titles]
    name = make_user(container, space, "responder")
    who = container.users.principal(container.users.ids_of([name])[name], space)
    assert who is not None
    steps = (cmd.Assign(who.user_id), cmd.Acknowledge())
    container.cases.change(who, CaseChange(made[1].id, steps))
    container.timeline.create_comment(who, made[0].id, "Rolling back deploy 4812; watching p99.")
    page = log_in(contexts(width), base_url, name)
    folder = screenshot_dir()
    for shot, path in (("queue", "/ui/"), ("case", f"/ui/cases/{made[0].readable_id}")):
        page.goto(base_url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{shot} scrolls sideways by {overflow}px at {width}px"
        page.screenshot(path=str(folder / f"{shot}-{width}.png"), full_page=width == 375)
