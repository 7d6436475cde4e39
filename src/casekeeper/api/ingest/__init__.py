"""Signals in: Alertmanager's webhook, PagerDuty's Events API v2, casekeeper's generic signal
batch (HTTP and gRPC). Each door parses its wire format into a ``domain.signals.SignalBatch``
and hands it to ``service.signals.SignalService``; grouping, priority and idempotency are the
service's."""
