"""The change feed over Server-Sent Events (docs/EVENTS_STREAM.md)."""
