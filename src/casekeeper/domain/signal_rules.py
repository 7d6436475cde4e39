"""The rules that turn a signal into parts of a case, each with the sentence that explains it:
its priority (from its severity), its case group, the category of a case it opens, the title.

Pure functions of a signal and the space's ``SignalRules``; the service applies them and the
dry run and ``explain`` show their reasons (docs/INGEST.md, "Why").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from casekeeper.domain.case_settings import DEFAULT_PRIORITY_MAP, IndicatorPriority, SignalRules
from casekeeper.domain.enums import CaseCategory, CasePriority
from casekeeper.domain.incidents import IncidentSeverity
from casekeeper.domain.signals import Signal, Source

Sev = IncidentSeverity
# The incident severity an indicator priority shows as (Coralogix's incident severities).
SEVERITY_OF: Final[Mapping[IndicatorPriority, IncidentSeverity]] = {
    IndicatorPriority.P1: Sev.CRITICAL,
    IndicatorPriority.P2: Sev.ERROR,
    IndicatorPriority.P3: Sev.WARNING,
    IndicatorPriority.P4: Sev.LOW,
    IndicatorPriority.P5: Sev.INFO,
    IndicatorPriority.UNSPECIFIED: Sev.UNSPECIFIED,
}
_CATEGORIES: Final = {"security": CaseCategory.SECURITY, "availability": CaseCategory.AVAILABILITY}
_TITLE_SKIP: Final = frozenset({"alertname"})
MAX_CASE_TITLE: Final = 512


@dataclass(frozen=True, slots=True)
class Ruled:
    """A rule's answer and why."""

    value: str
    reason: str


def severity_of(signal: Signal, rules: SignalRules) -> str | None:
    """The signal's severity word: the sender's field, else the severity label."""
    if signal.severity:
        return signal.severity
    return signal.labels.get(rules.severity_label) or None


def priority_of(signal: Signal, rules: SignalRules) -> tuple[IndicatorPriority, str]:
    """The indicator priority the signal's severity maps to, and the rule that said so."""
    word = severity_of(signal, rules)
    where = "severity" if signal.severity else f"label {rules.severity_label}"
    if word is None:
        p = rules.default_priority
        return p, f"no {where}: the default priority {p.name}"
    mapped = rules.priority_map.get(word.strip().lower())
    if mapped is None:
        p = rules.default_priority
        return p, f'{where}="{word}" is not in the priority map: the default priority {p.name}'
    table = "the default map" if rules.priority_map is DEFAULT_PRIORITY_MAP else "the space's map"
    return mapped, f'{where}="{word}" maps to {mapped.name} ({table})'


def group_of(signal: Signal, source: Source, rules: SignalRules) -> Ruled:
    """The case group the signal's incident joins: the settings' grouping labels when the
    signal has them all, else the sender's own group, else its dedup key alone."""
    wanted = rules.grouping_labels
    if wanted and all(signal.labels.get(name) for name in wanted):
        pairs = ",".join(f"{name}={signal.labels[name]}" for name in wanted)
        key = ",".join(f"{_escaped(name)}={_escaped(signal.labels[name])}" for name in wanted)
        return Ruled(f"labels:{key}", f"the space groups by {', '.join(wanted)}: {pairs}")
    if signal.group_key:
        where = "Alertmanager group" if source is Source.ALERTMANAGER else "sender's group"
        return Ruled(f"{source.value}:{signal.group_key}", f"the {where} {signal.group_key}")
    return Ruled(
        f"{source.value}/{signal.dedup_key}",
        f"no group: dedup key {signal.dedup_key!r} has a case of its own",
    )


def category_of(signal: Signal, rules: SignalRules) -> tuple[CaseCategory, str]:
    word = (signal.labels.get(rules.category_label) or "").strip().lower()
    found = _CATEGORIES.get(word)
    if found is not None:
        return found, f"label {rules.category_label}={word}"
    return rules.default_category, f"the default category {rules.default_category.name}"


def case_title(signal: Signal) -> str:
    """A new case's title: the alert's title and the values its group is made of."""
    extra = [f"{k}={v}" for k, v in sorted(signal.group_labels.items()) if k not in _TITLE_SKIP]
    title = signal.title if not extra else f"{signal.title} ({', '.join(extra)})"
    return title[:MAX_CASE_TITLE].strip() or "alert"


def case_priority(priority: IndicatorPriority) -> CasePriority:
    return priority.case_priority


def _escaped(text: str) -> str:
    """A label name or value as the grouping key writes it: backslash, comma and = escaped,
    so ``a="x,b=y"`` and ``a=x, b=y`` are different groups (text without them is unchanged)."""
    if not any(ch in text for ch in "\\,="):
        return text
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
