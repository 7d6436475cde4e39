"""casekeeper's own notification API: ``casekeeper.v1.NotificationService`` over gRPC and the
same messages as JSON under ``/api/v1/`` (docs/NOTIFICATIONS_API.md)."""
