"""Coralogix's CasesNotificationService: the delivery ledger, in the spec's words."""
