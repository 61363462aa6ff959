"""Real Chromium (Debian's package) driven by Playwright, and where screenshots are kept."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("DIGEST_TEST_ARTIFACTS", Path(__file__).parent.parent / "build"))


def artifact_path(*parts: str) -> Path:
    """A file under build/test-artifacts (or $DIGEST_TEST_ARTIFACTS), folders made."""
    path = ARTIFACTS.joinpath("test-artifacts", *parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
