"""api.grpc.fastjson: the quick spec-JSON -> protobuf fill used for stored data must build
exactly what protobuf's own ``ParseDict`` builds, and hand anything unexpected to it."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format

from casekeeper.api.coralogix.fastjson import fill_from_json
from casekeeper.proto.com.coralogixapis.cases.v1 import case_pb2 as c_pb

INDICATORS: list[dict[str, Any]] = [
    {
        "alertIndicators": [
            {
                "alertId": "00000000-00e7-471f-8000-000000abcdef",
                "latestAlertVersion": "v3",
                "alertVersions": ["v2", "v3"],
                "priority": "INDICATOR_PRIORITY_P3",
                "groupingType": "GROUPING_TYPE_NONE",
                "state": "INDICATOR_STATE_TRIGGERED",
                "triggerTime": "2026-02-01T02:17:39.435047Z",
                "permutations": [{"permutation": {"service": "payments", "env": "production"}}],
            }
        ]
    },
    {
        "prometheusAlertIndicators": [
            {
                "alertGroupId": "group-1",
                "priority": "INDICATOR_PRIORITY_P2",
                "groupLabels": {"alertname": "HighLatency"},
                "receivedAt": "2025-09-22T10:30:01Z",
                "alerts": [
                    {
                        "fingerprint": "abc123",
                        "labels": {"service": "checkout"},
                        "annotations": {},
                        "status": {"triggered": {"triggeredAt": "2025-09-22T10:30:00Z"}},
                        "createdAt": "2025-09-22T10:29:00.5Z",
                    }
                ],
            }
        ]
    },
    {
        "genericIndicators": [
            {
                "id": "5d1e6a3c-9d1b-4c55-a7a0-1e3f1c0f7a10",
                "externalId": "ERR-1234",
                "indicatorType": "GENERIC_INDICATOR_TYPE_ERROR_TRACKING",
                "status": "GENERIC_INDICATOR_STATUS_TRIGGERED",
                "priority": "INDICATOR_PRIORITY_P3",
                "lastTriggeredAt": "2025-09-22T10:30:00Z",
            }
        ]
    },
]


@pytest.mark.parametrize("data", INDICATORS, ids=lambda d: next(iter(d)))
def test_fill_builds_what_parse_dict_builds(data: dict[str, Any]) -> None:
    fast, slow = c_pb.CaseIndicators(), c_pb.CaseIndicators()
    fill_from_json(fast, data)
    json_format.ParseDict(data, slow)
    assert fast == slow
    assert fast.ByteSize() > 0


def test_fill_accepts_enum_numbers_and_skips_nulls_and_unknown_keys() -> None:
    data = {"alertIndicators": [{"alertId": "a", "priority": 2, "state": None, "extra": 1}]}
    msg = c_pb.CaseIndicators()
    fill_from_json(msg, data)
    assert msg.alert_indicators[0].alert_id == "a"
    assert msg.alert_indicators[0].priority == 2


def test_something_unexpected_is_left_to_parse_dict() -> None:
    """An enum name this build does not know: ParseDict decides (for stored data it skips
    what it does not know), and a shape that is plainly wrong is its error to report."""
    unknown = {"alertIndicators": [{"alertId": "a", "priority": "INDICATOR_PRIORITY_P9"}]}
    fast, slow = c_pb.CaseIndicators(), c_pb.CaseIndicators()
    fill_from_json(fast, unknown)
    json_format.ParseDict(unknown, slow, ignore_unknown_fields=True)
    assert fast == slow
    assert fast.alert_indicators[0].alert_id == "a"
    wrong = {"alertIndicators": [{"alertId": "a", "permutations": "not a list of objects"}]}
    with pytest.raises(json_format.ParseError):
        fill_from_json(c_pb.CaseIndicators(), wrong)
