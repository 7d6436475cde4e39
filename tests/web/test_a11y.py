"""Every console page through axe-core's rules in a real Chromium: no serious or critical
violation (labels, contrast, names, landmarks, focus), in the light and the dark theme."""

from __future__ import annotations

from typing import Any

import pytest

from casekeeper.bootstrap import Container
from tests.api.tracecat.conftest import make_user
from tests.conftest import MakeCase
from tests.web.browser import axe_source
from tests.web.test_browser import log_in

SERIOUS = ("serious", "critical")


def violations(page: Any, source: str) -> list[str]:
    # evaluate() runs outside the page's CSP, which (rightly) forbids injected scripts.
    page.evaluate(source)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
            for v in found if v["impact"] in SERIOUS]  # fmt: skip


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_has_no_serious_accessibility_violation(
    contexts: Any, base_url: str, container: Container, space: str, make_case: MakeCase,
    theme: str,
) -> None:  # fmt: skip
    source = axe_source()
    case = make_case(title="Checkout p99 above 800 ms", priority=1, labels={"team": "payments"})
    ctx = contexts()
    ctx.add_init_script(f"try {{ localStorage.setItem('ck-theme', '{theme}') }} catch (e) {{}}")
    login = ctx.new_page()
    login.goto(base_url + "/ui/login")
    assert violations(login, source) == [], "login"
    page = log_in(ctx, base_url, make_user(container, space, "admin"))
    pages = ["/ui/", "/ui/?priority=P1&status=any", f"/ui/cases/{case.readable_id}",
             "/ui/incidents", "/ui/settings", "/ui/settings/notifications",
             "/ui/settings/users", "/ui/settings/keys"]  # fmt: skip
    for path in pages:
        page.goto(base_url + path)
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        assert violations(page, source) == [], path
