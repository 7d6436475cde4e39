"""Real Chromium for the console's tests: Debian's /usr/bin/chromium driven by Playwright
(REAL_CLIENTS.md §3: never ``playwright install``), with every name but loopback unresolvable.

Without Chromium or Playwright the browser tests skip, saying why, unless
``CASEKEEPER_REQUIRE_BROWSER=1`` (CI sets it) turns that into a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CASEKEEPER_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]  # fmt: skip
REPO = Path(__file__).resolve().parents[2]
# axe-core, installed from npm by scripts/test.sh (the a11y tests' rules engine).
AXE = REPO / ".ci" / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


def missing(what: str) -> None:
    if os.environ.get("CASEKEEPER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} (CASEKEEPER_REQUIRE_BROWSER=1)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install playwright; never playwright install)")
    if not shutil.which(CHROMIUM):
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def screenshot_dir() -> Path:
    """Where screenshots go: ``CASEKEEPER_SCREENSHOTS`` (CI: docs/screenshots), else a cache."""
    raw = os.environ.get("CASEKEEPER_SCREENSHOTS", "")
    folder = Path(raw) if raw else REPO / ".ci" / ".cache" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_source() -> str:
    if not AXE.is_file():
        missing(f"axe-core is not installed at {AXE} (scripts/test.sh installs it with npm)")
    return AXE.read_text()
