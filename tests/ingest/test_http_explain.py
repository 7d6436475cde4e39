"""``GET /ingest/cases/{id}/explanation``: why a case has its priority and its alerts."""

from __future__ import annotations

from casekeeper.bootstrap import Container
from tests.conftest import MakeKey
from tests.ingest.conftest import MakeSender, load_payload


def test_a_case_explains_its_priority_groups_and_firings(
    make_sender: MakeSender, make_key: MakeKey, container: Container
) -> None:
    sender = make_sender()
    payload = load_payload("02_firing_group_2_alerts_api_v2.json")
    opened = sender.post("/ingest/alertmanager", payload).json()["outcomes"][0]
    reader_key, _ = make_key("case:Read")
    for ref in (opened["case_id"], opened["case_readable_id"]):
        r = sender.http.get(
            f"/ingest/cases/{ref}/explanation", headers={"authorization": f"Bearer {reader_key}"}
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["case_id"] == opened["case_id"]
        assert body["priority"] == "P1"
        assert 'label severity="critical" maps to P1' in body["priority_reason"]
        assert body["groups"] == [opened["group_key"]]
        assert sorted(f["dedup_key"] for f in body["firings"]) == sorted(
            a["fingerprint"] for a in payload["alerts"]
        )
        assert {f["status"] for f in body["firings"]} == {"firing"}


def test_explanations_need_case_read_and_a_known_case(
    make_sender: MakeSender, make_key: MakeKey
) -> None:
    sender = make_sender()  # signals:Write only
    opened = sender.post(
        "/ingest/alertmanager", load_payload("01_firing_amtool_alert_add.json")
    ).json()["outcomes"][0]
    url = f"/ingest/cases/{opened['case_id']}/explanation"
    assert sender.http.get(url).status_code == 401
    denied = sender.http.get(url, headers={"authorization": f"Bearer {sender.key}"})
    assert denied.status_code == 403
    reader_key, _ = make_key("case:Read")
    missing = sender.http.get(
        "/ingest/cases/CASE-999999/explanation", headers={"authorization": f"Bearer {reader_key}"}
    )
    assert missing.status_code == 404
    assert "CASE-999999" in missing.json()["message"]
