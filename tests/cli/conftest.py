"""``serve`` (a real ``casekeeper serve`` process) for the settings tests, from tests/server."""

from tests.server.conftest import serve

__all__ = ["serve"]
