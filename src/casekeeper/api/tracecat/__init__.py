"""Tracecat's cases API (OCSF-aligned) over the canonical cases (docs/TRACECAT.md)."""
