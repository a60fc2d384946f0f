"""A real browser for the tests of the approval page: Debian's `chromium`, driven by Playwright for Python.

Playwright runs the system browser (`executable_path`); it never downloads one (no `playwright install`;
`PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1` in `.ci/run`). Outside CI a machine without `chromium` (or without the
`playwright` package of the test extras) skips the tests that need it, saying what to install; in CI
(`CI=true`) they fail, since CI installs both (`.ci/run`, `pyproject.toml`).

Screenshots go to `test-artifacts/` at the top of the clone (git-ignored; CI keeps the folder), and each
saved path is printed, so a run's log says where to look.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.procs import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CANDIDATES = ("chromium", "chromium-browser")


def chromium_binary() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in (f"/usr/bin/{n}" for n in CANDIDATES) if os.path.exists(p)), None)


def _missing(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why + "; CI must install it (.ci/run)")
    pytest.skip(why)


def need_chromium() -> str:
    """The chromium binary, or skip (fail in CI) with what to install."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is not installed: pip install -e '.[test]' to run the real-browser tests")
    found = chromium_binary()
    if found is None:
        _missing("chromium is not installed: apt-get install chromium (Debian's package) to run the real-browser tests")
    assert found is not None
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Debian chromium under Playwright (async API, so the server under test keeps running)."""
    binary = need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=binary, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as `test-artifacts/<name>.png`, print where, and return the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
