"""Adapters: translate a dialect to service calls and back. No business rules here."""
