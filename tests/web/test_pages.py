"""The console's pages and forms over real HTTP: login, the queue's filters, facets, paging,
saved views and bulk actions, a case's actions on its timeline, comments, the settings pages,
and every refusal (no session, a forged or cross-site form, a viewer's POST)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import unquote

import httpx

from casekeeper.bootstrap import Container
from casekeeper.domain.enums import CaseStatus
from casekeeper.service.auth import Principal
from tests.api.tracecat.conftest import make_user
from tests.conftest import MakeCase, MakeKey
from tests.web.conftest import CSRF, LogIn, web_login


def refs(html: str) -> list[str]:
    return re.findall(r'data-ref="([^"]+)"', html)


def flash(r: httpx.Response) -> str:
    cookie = next(
        v
        for k, v in r.headers.multi_items()
        if k == "set-cookie" and v.startswith("casekeeper_flash=")
    )
    return unquote(cookie.split(";")[0].split("=", 1)[1].strip('"'))


def test_the_root_and_the_queue_ask_a_stranger_to_log_in(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as c:
        assert c.get("/").headers["location"] == "/ui/"
        r = c.get("/ui/?priority=P1")
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/login?next=%2Fui%2F%3Fpriority%3DP1"
        page = c.get("/ui/login")
        assert page.status_code == 200
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        # An action without a session is refused, and changes nothing.
        assert c.post("/ui/bulk", data={"action": "close"}).status_code == 401


def test_login_refuses_a_wrong_password_a_forged_form_and_a_cross_site_post(
    base_url: str, container: Container, space: str
) -> None:
    name = make_user(container, space, "viewer")
    with httpx.Client(base_url=base_url) as c:
        token = CSRF.search(c.get("/ui/login").text)
        assert token
        form = {"username": name, "password": "wrong password", "csrf": token.group(1)}
        r = c.post("/ui/login", data=form)
        assert r.status_code == 400
        assert "wrong username or password" in r.text
        r = c.post("/ui/login", data={**form, "password": "x", "csrf": "forged"})
        assert r.status_code == 403
        r = c.post("/ui/login", data=form, headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
        assert "fastapiusersauth" not in c.cookies


def test_login_goes_back_where_it_was_sent_from_and_logout_ends_the_session(
    base_url: str, container: Container, space: str
) -> None:
    name = make_user(container, space, "viewer")
    b = web_login(base_url, name)
    r = b.post("/ui/logout")
    assert r.headers["location"] == "/ui/login"
    # The cookie is gone, and the old token is refused even if replayed.
    assert b.http.get("/ui/").status_code == 303
    b.http.close()
    with httpx.Client(base_url=base_url) as c:
        token = CSRF.search(c.get("/ui/login").text)
        assert token
        r = c.post(
            "/ui/login",
            data={
                "username": name,
                "password": "correct horse battery",
                "csrf": token.group(1),
                "next": "https://evil.test/",
            },
        )
        assert r.headers["location"] == "/ui/"  # never off this console


def test_the_queue_shows_open_cases_most_urgent_first_with_facet_counts(
    log_in: LogIn, make_case: MakeCase
) -> None:
    low = make_case(title="Low one", priority=4)
    high = make_case(title="High one", priority=1)
    mid = make_case(title="Middle one", priority=2, labels={"team": "db"})
    b = log_in("responder")
    html = b.get("/ui/")
    assert refs(html) == [high.readable_id, mid.readable_id, low.readable_id]
    assert re.search(r'data-facet="priority:P1"><span>P1</span><span class="count">1<', html)
    assert re.search(r'data-facet="status:active"><span>Active</span><span class="count">3<', html)
    # Filters are links: priority, text, label.
    assert refs(b.get("/ui/?priority=P2")) == [mid.readable_id]
    assert refs(b.get("/ui/?q=low")) == [low.readable_id]
    assert refs(b.get("/ui/?label=team%3Ddb")) == [mid.readable_id]
    assert refs(b.get("/ui/?sort=created&dir=asc")) == [low.readable_id, high.readable_id,
                                                         mid.readable_id]  # fmt: skip
    assert refs(b.get("/ui/?fragment=rows&priority=P4")) == [low.readable_id]


def test_a_bad_filter_is_a_page_that_says_what_to_fix(log_in: LogIn) -> None:
    b = log_in("viewer")
    html = b.get("/ui/?priority=P9", expect=400)
    assert "unknown priority &#39;P9&#39;" in html
    assert "one of P1, P2, P3, P4, P5" in html
    assert "key=value" in b.get("/ui/?label=nokey", expect=400)


def test_keyset_pages_walk_the_whole_queue_both_ways(log_in: LogIn, make_case: MakeCase) -> None:
    made = [make_case(title=f"Paged {i}", priority=3) for i in range(55)]
    b = log_in("viewer")
    first = b.get("/ui/?sort=created")
    page1 = refs(first)
    assert len(page1) == 50
    after = re.search(r'href="([^"]+)" rel="next"', first)
    assert after
    second = b.get(after.group(1).replace("&amp;", "&"))
    page2 = refs(second)
    assert len(page2) == 5
    assert set(page1 + page2) == {c.readable_id for c in made}
    before = re.search(r'href="([^"]+)" rel="prev"', second)
    assert before
    assert refs(b.get(before.group(1).replace("&amp;", "&"))) == page1


def test_assignee_me_and_unassigned_filters(log_in: LogIn, make_case: MakeCase,
                                            container: Container) -> None:  # fmt: skip
    b = log_in("responder")
    mine, other = make_case(title="Mine"), make_case(title="Nobody's")
    r = b.post(f"/ui/cases/{mine.readable_id}/do", {"action": "assign-me"})
    assert flash(r) == f"ok:{mine.readable_id} assigned to you"
    assert refs(b.get("/ui/?assignee=me")) == [mine.readable_id]
    assert refs(b.get("/ui/?assignee=unassigned")) == [other.readable_id]


def test_bulk_actions_report_each_case(log_in: LogIn, make_case: MakeCase, container: Container,
                                       principal: Principal) -> None:  # fmt: skip
    b = log_in("responder")
    a, c = make_case(title="Bulk A"), make_case(title="Bulk B")
    missing = "00000000-0000-4000-8000-000000000000"
    r = b.post(
        "/ui/bulk",
        {"action": "acknowledge", "ids": [a.id, c.id, missing], "back": "/ui/"},
        expect=200,
    )
    assert "Acknowledge: 2 done, 1 not done" in r.text
    assert "Case not found" in r.text
    for case in (a, c):
        assert container.cases.get(principal, case.id).status is CaseStatus.ACKNOWLEDGED
    r = b.post("/ui/bulk", {"action": "explode", "ids": [a.id], "back": "/ui/"})
    assert flash(r).startswith("error:action: unknown action 'explode'")
    r = b.post("/ui/bulk", {"action": "close", "back": "https://evil.test/"})
    assert r.headers["location"] == "/ui/"
    assert flash(r) == "error:select at least one case first"


def test_saved_views_belong_to_their_user(log_in: LogIn) -> None:
    b = log_in("viewer")
    r = b.post("/ui/views", {"name": "  My   P1s ", "query": "priority=P1"})
    assert r.headers["location"] == "/ui/?priority=P1"
    html = b.get("/ui/")
    assert '<a href="/ui/?priority=P1">My P1s</a>' in html
    other = log_in("viewer")
    assert "My P1s" not in other.get("/ui/")
    view_id = re.search(r'name="id" value="([^"]+)"', html)
    assert view_id
    assert flash(other.post("/ui/views/delete", {"id": view_id.group(1)})).startswith("error:")
    assert flash(b.post("/ui/views/delete", {"id": view_id.group(1)})) == "ok:deleted the view"
    assert "My P1s" not in b.get("/ui/")
    assert flash(b.post("/ui/views", {"name": "", "query": ""})).startswith("error:")


def test_every_case_action_lands_on_the_timeline(log_in: LogIn, make_case: MakeCase) -> None:
    b = log_in("responder")
    case = make_case(title="Worked through the console", priority=3)
    url = f"/ui/cases/{case.readable_id}"
    steps = [
        ({"action": "assign-me"}, "assigned Test User"),
        ({"action": "acknowledge"}, "changed the status from Active to Acknowledged"),
        ({"action": "priority", "priority": "P1"}, "changed the priority from P3 to P1 (override"),
        ({"action": "priority", "priority": "clear"}, "to P3</div>"),
        ({"action": "title", "title": "Renamed here"}, "renamed the case from"),
        ({"action": "resolve", "reason": "disk cleaned"}, "from Acknowledged to Resolved"),
        ({"action": "close"}, "from Resolved to Closed"),
        ({"action": "reopen"}, "from Closed to Active"),
    ]
    for form, seen in steps:
        r = b.post(url + "/do", form)
        assert flash(r).startswith("ok:"), flash(r)
        assert seen in b.follow(r), seen
    page = b.get(url)
    assert "Renamed here" in page
    assert page.count('class="k-') >= 9


def test_a_stale_form_is_refused_with_the_case_as_it_is_now(
    log_in: LogIn, make_case: MakeCase
) -> None:
    b = log_in("responder")
    case = make_case()
    r = b.post(
        f"/ui/cases/{case.readable_id}/do",
        {"action": "acknowledge", "version": str(case.version + 7)},
    )
    assert "someone changed this case" in flash(r)


def test_comments_can_be_edited_and_deleted_by_their_author_only(
    log_in: LogIn, make_case: MakeCase
) -> None:
    author, other = log_in("responder"), log_in("responder")
    case = make_case()
    url = f"/ui/cases/{case.readable_id}"
    assert flash(author.post(url + "/comments", {"text": "looking at it"})) == "ok:comment added"
    page = author.get(url)
    event = re.search(r"/comments/([0-9a-f-]+)/edit", page)
    assert event
    assert "looking at it" in page
    assert "/edit" not in other.get(url)  # not offered to others …
    r = other.post(f"{url}/comments/{event.group(1)}/edit", {"text": "hijacked"})
    assert "only your own comments" in flash(r)  # … and refused when forged
    r = author.post(f"{url}/comments/{event.group(1)}/edit", {"text": "fixed it"})
    assert "fixed it" in author.follow(r)
    r = author.post(f"{url}/comments/{event.group(1)}/delete")
    assert "fixed it" not in author.follow(r)
    assert flash(author.post(url + "/comments", {"text": "   "})).startswith("error:")


def test_a_viewer_sees_no_actions_and_a_forged_post_is_refused(
    log_in: LogIn, make_case: MakeCase
) -> None:
    b = log_in("viewer")
    case = make_case()
    page = b.get(f"/ui/cases/{case.readable_id}")
    assert "data-action=" not in page
    assert "comment-form" not in page
    assert "data-bulk" not in b.get("/ui/")
    r = b.post(f"/ui/cases/{case.readable_id}/do", {"action": "acknowledge"})
    assert "lacks the permission" in flash(r)
    assert b.get(f"/ui/cases/{case.readable_id}").count('class="k-status"') == 1


def test_forms_without_the_token_or_from_another_site_are_refused(
    log_in: LogIn, make_case: MakeCase
) -> None:
    b = log_in("responder")
    case = make_case()
    url = f"/ui/cases/{case.readable_id}/do"
    r = b.post(url, {"action": "acknowledge"}, csrf=False, expect=403)
    assert "reload the page" in r.text
    b.post(url, {"action": "acknowledge", "csrf": "0" * 40}, expect=403)
    b.post(url, {"action": "acknowledge"}, headers={"Sec-Fetch-Site": "cross-site"}, expect=403)
    b.post(url, {"action": "acknowledge"}, headers={"Origin": "https://evil.test"}, expect=403)
    assert "Acknowledged</span>" not in b.get(f"/ui/cases/{case.readable_id}")


def test_unknown_pages_and_cases_are_html_404s(log_in: LogIn) -> None:
    b = log_in("viewer")
    assert "Case not found" in b.get("/ui/cases/CASE-999999999", expect=404)
    r = b.http.get("/ui/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert b.http.put("/ui/").status_code == 405


def test_assets_are_hashed_compressed_and_cached_for_a_year(log_in: LogIn) -> None:
    b = log_in("viewer")
    html = b.get("/ui/")
    css = re.search(r'href="(/ui/static/app\.[0-9a-f]{12}\.css)"', html)
    js = re.search(r'src="(/ui/static/app\.[0-9a-f]{12}\.js)"', html)
    assert css
    assert js
    r = b.http.get(css.group(1), headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "gzip"
    assert "--accent" in r.text
    assert b.http.get("/ui/static/app.000000000000.css").status_code == 404
    assert b.http.get("/ui/").headers["cache-control"] == "no-store"


def test_incidents_pages(log_in: LogIn) -> None:
    b = log_in("viewer")
    assert "incident" in b.get("/ui/incidents")
    b.get("/ui/incidents?status=resolved&severity=critical")
    assert "unknown status" in b.get("/ui/incidents?status=nope", expect=400)
    assert "Incident not found" in b.get(
        "/ui/incidents/0b0b0b0b-0000-4000-8000-000000000000", expect=404
    )


def test_settings_are_for_admins_and_a_new_key_is_shown_once(log_in: LogIn, space: str) -> None:
    responder, admin = log_in("responder"), log_in("admin")
    assert "Case settings" in responder.get("/ui/settings")
    assert "disabled" in responder.get("/ui/settings")  # read-only for a responder
    responder.get("/ui/settings/users", expect=403)
    responder.get("/ui/settings/keys", expect=403)
    assert responder.get("/ui/settings/notifications")
    r = admin.post(
        "/ui/settings/keys", {"action": "create", "name": "ci key", "role": "viewer"}, expect=200
    )
    key = re.search(r'id="new-key">(ck_[^<]+)<', r.text)
    assert key
    assert r.headers["cache-control"] == "no-store"
    keys_page = admin.get("/ui/settings/keys")
    assert "ci key" in keys_page
    assert key.group(1) not in keys_page
    with httpx.Client(base_url=str(admin.http.base_url)) as api:
        ok = api.get(
            f"/s/{space}/api/cases/_find", headers={"Authorization": f"Bearer {key.group(1)}"}
        )
        assert ok.status_code == 200
    users = admin.get("/ui/settings/users")
    assert responder.username in users
    new_name = f"new{uuid.uuid4().hex[:8]}"
    r = admin.post(
        "/ui/settings/users",
        {"action": "create", "username": new_name, "password": "long enough pw", "role": "viewer"},
    )
    assert flash(r) == f"ok:user {new_name}: create done"
    r = admin.post("/ui/settings/users", {"action": "disable", "username": new_name})
    assert "disabled" in admin.follow(r)
    r = admin.post(
        "/ui/settings",
        {
            "auto_resolve": "on",
            "indicators_enabled": "on",
            "suppression_period": "5",
            "resolution_snooze_period": "0",
            "post_resolution_period": "60",
            "inactive_period": "",
        },
    )
    assert flash(r) == "ok:case settings saved"
    assert 'name="suppression_period" value="5"' in admin.follow(r)
    r = admin.post("/ui/settings", {"suppression_period": "soon"})
    assert flash(r).startswith("error:")


def test_admins_manage_connectors_and_routes(log_in: LogIn) -> None:
    admin, viewer = log_in("admin"), log_in("viewer")
    page = "/ui/settings/notifications"
    form = {"action": "create", "name": "ops hook", "kind": "webhook",
            "url": "http://127.0.0.1:9/hook", "enabled": "on"}  # fmt: skip
    assert flash(admin.post("/ui/settings/connectors", form)) == "ok:connector ops hook created"
    html = admin.get(page)
    conn = re.search(r'name="id" value="([0-9a-f-]{36})">\s*<button type="submit" name="action" '
                     r'value="test"', html)  # fmt: skip
    assert conn, html
    r = admin.post("/ui/settings/connectors", {"action": "test", "id": conn.group(1)})
    assert flash(r).startswith("error:test message failed")  # nothing listens on port 9
    route = {"action": "create", "name": "P1 to ops", "connectors": conn.group(1),
             "events": ["opened", "reopened"], "min_priority": "P1", "enabled": "on"}  # fmt: skip
    assert flash(admin.post("/ui/settings/routes", route)) == "ok:route P1 to ops created"
    html = admin.get(page)
    assert "opened, reopened; P1 or more urgent" in html
    r = admin.post("/ui/settings/connectors", {"action": "delete", "id": conn.group(1)})
    assert "is used by routes" in flash(r)
    assert "Send a test" not in viewer.get(page)  # a viewer reads, and changes nothing
    assert "lacks the permission" in flash(
        viewer.post("/ui/settings/connectors", {"action": "disable", "id": conn.group(1)})
    )
    route_id = re.search(r'/settings/routes" class="inline">.*?name="id" value="([^"]+)"', html,
                         re.S)  # fmt: skip
    assert route_id
    assert flash(admin.post("/ui/settings/routes", {"action": "delete", "id": route_id.group(1)}))
    r = admin.post("/ui/settings/connectors", {"action": "delete", "id": conn.group(1)})
    assert flash(r) == "ok:connector deleted"


def test_category_grouping_and_range_filters(log_in: LogIn, make_case: MakeCase) -> None:
    security = make_case(title="Leaked token", category=1, groupings={"service": "auth"})
    make_case(title="Slow checkout", category=2, groupings={"service": "checkout"})
    b = log_in("viewer")
    assert refs(b.get("/ui/?category=security")) == [security.readable_id]
    assert refs(b.get("/ui/?grouping=service%3Dauth")) == [security.readable_id]
    assert len(refs(b.get("/ui/?range=1h"))) == 2  # both opened within the hour
    assert "grouping: service" in b.get("/ui/").lower()


def test_a_case_from_an_alert_shows_why_its_alerts_and_its_incident(
    log_in: LogIn, make_key: MakeKey, base_url: str
) -> None:
    key, _ = make_key("signals:Write", "case:Read")
    signal = {"dedup_key": "web-disk", "title": "Disk 97% full on db-7",
              "labels": {"service": "db", "severity": "critical"},
              "links": [{"url": "https://runbooks.example.test/disk", "text": "rb"}]}  # fmt: skip
    r = httpx.post(f"{base_url}/ingest/signals", json={"source": "web", "signals": [signal]},
                   headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert r.status_code == 200, r.text
    b = log_in("responder")
    (ref,) = refs(b.get("/ui/?q=db-7"))
    page = b.get(f"/ui/cases/{ref}")
    assert "the most urgent of its firing indicators" in page  # the priority's why
    assert 'href="https://runbooks.example.test/disk"' in page
    incident = re.search(r'href="/ui/incidents/([0-9a-f-]+)"', page)
    assert incident
    html = b.get(f"/ui/incidents/{incident.group(1)}")
    assert "opened" in html
    r = b.post(f"/ui/incidents/{incident.group(1)}/do", {"action": "acknowledge"})
    assert "acknowledged" in b.follow(r)
    assert incident.group(1) in b.get("/ui/incidents")
