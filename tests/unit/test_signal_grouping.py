"""The case group a signal joins (``group_of``): label values that contain the key's own
separators cannot make two different label sets share a group."""

from __future__ import annotations

from casekeeper.domain.case_settings import SignalRules
from casekeeper.domain.signal_rules import group_of
from casekeeper.domain.signals import Signal, SignalStatus, Source


def signal(**labels: str) -> Signal:
    return Signal(dedup_key="fp", status=SignalStatus.FIRING, title="T", labels=labels, starts_at=1)


RULES = SignalRules(grouping_labels=("a", "b"))


def test_plain_label_values_keep_the_key_they_always_had() -> None:
    ruled = group_of(signal(a="x", b="y"), Source.ALERTMANAGER, RULES)
    assert ruled.value == "labels:a=x,b=y"  # groups stored before the escaping still match
    assert ruled.reason == "the space groups by a, b: a=x,b=y"


def test_separators_inside_values_make_a_different_group() -> None:
    one = group_of(signal(a="x,b=y", b="z"), Source.ALERTMANAGER, RULES)
    other = group_of(signal(a="x", b="y,b=z"), Source.ALERTMANAGER, RULES)
    assert one.value != other.value
    assert one.value == r"labels:a=x\,b\=y,b=z"
    backslash = group_of(signal(a="x\\", b="y"), Source.ALERTMANAGER, RULES)
    assert backslash.value == r"labels:a=x\\,b=y"


def test_a_signal_without_every_grouping_label_falls_back_to_its_senders_group() -> None:
    s = Signal(
        dedup_key="fp", status=SignalStatus.FIRING, title="T", labels={"a": "x"}, starts_at=1,
        group_key="{}:{alertname=\"T\"}",
    )  # fmt: skip
    assert group_of(s, Source.ALERTMANAGER, RULES).value == 'alertmanager:{}:{alertname="T"}'
