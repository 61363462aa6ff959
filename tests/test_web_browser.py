"""The web app in real Chromium, served by `run_digest.py serve` on a free loopback port:
the index, a preview at phone width in dark mode, managing topics, unsubscribing with the
button (and `send --all` then skipping that reader), and axe-core on every page."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Frame, Page, expect

from .browser import artifact_path
from .conftest import REPO
from .servers import free_port
from .test_cli import run, sample_env
from .test_email_browser import BACKGROUND_JS, luminance

Scheme = Literal["light", "dark"]
NAMES = ("Ada Lovelace", "Grace Hopper", "Kenji Sato")
PHONE = 375  # the preview's phone width, in CSS px
DARK = "matchMedia('(prefers-color-scheme: dark)').matches"


@dataclass(frozen=True)
class Site:
    url: str
    env: dict[str, str]
    folder: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(list(args), self.env, self.folder)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The bundled samples collected into a fresh database, served for the whole module."""
    folder = tmp_path_factory.mktemp("web")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = sample_env(folder, DIGEST_SECRET="browser-test-secret", DIGEST_BASE_URL=url)
    collected = run(["collect"], env, folder)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    log = folder / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, str(REPO / "run_digest.py"), "serve", "--port", str(port)],
            env={**os.environ, **env}, cwd=folder,
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_answering(url, server, log)
        yield Site(url, env, folder)
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(15)
    assert code == 0, f"serve exited with {code}:\n{log.read_text()}"


def wait_until_answering(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        assert server.poll() is None, f"serve exited with {server.returncode}:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(f"{url}/static/web.css", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        assert time.monotonic() < deadline, f"serve did not answer in 20 s:\n{log.read_text()}"
        time.sleep(0.05)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop window on a light system: the pages' own CSP stays in force."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    try:
        yield context.new_page()
    finally:
        context.close()


def assert_accessible(page: Page) -> None:
    """axe-core finds nothing serious or critical on the page as it is now."""
    results = Axe().run(page)  # page.evaluate is not subject to the page's CSP
    violations: list[dict[str, Any]] = results.response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, f"{page.url}: {serious}\n{results.generate_report()}"


def screenshot(page: Page, name: str) -> None:
    path = artifact_path("web", f"{name}.png")
    page.screenshot(path=path, full_page=True)
    assert path.read_bytes().startswith(b"\x89PNG")


def digest_links(page: Page, site: Site, name: str) -> dict[str, str]:
    """The links at the foot of `name`'s next digest, read from the preview's plain text."""
    page.goto(f"{site.url}/")
    page.get_by_role("link", name=f"Preview the next digest of {name}").click()
    text = page.locator("pre.text").inner_text()
    links = dict(re.findall(r"^(View in browser|Manage topics|Unsubscribe): (\S+)$", text, re.M))
    assert set(links) == {"View in browser", "Manage topics", "Unsubscribe"}, text[-600:]
    assert all(link.startswith(f"{site.url}/") for link in links.values()), links
    return links


def email_frame(page: Page) -> Frame:
    frame = page.locator("iframe.email").element_handle().content_frame()
    assert frame is not None and "/email.html" in frame.url, page.frames
    return frame


def open_phone_preview(page: Page, site: Site, scheme: Scheme) -> None:
    """Ada's preview, switched to phone width and `scheme` with the page's own links."""
    page.goto(f"{site.url}/")
    page.get_by_role("link", name="Preview the next digest of Ada Lovelace").click()
    page.get_by_role("link", name="Phone width").click()
    page.get_by_role("link", name=scheme.capitalize(), exact=True).click()
    expect(page).to_have_url(re.compile(rf"\?width=phone&scheme={scheme}$"))


def test_index_lists_every_subscriber_with_a_preview_link(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/")

    rows = page.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(len(NAMES))
    for name in NAMES:
        link = page.get_by_role("link", name=f"Preview the next digest of {name}")
        expect(link).to_have_attribute("href", re.compile(r"^/preview/\w+$"))
    screenshot(page, "index")


def test_preview_switches_to_phone_width_and_dark(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/")
    page.get_by_role("link", name="Preview the next digest of Ada Lovelace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview for Ada Lovelace")
    desktop = email_frame(page).evaluate("innerWidth")
    screenshot(page, "preview-desktop-light")

    open_phone_preview(page, site, "dark")

    switches = page.get_by_role("navigation", name="Preview options")
    current = switches.locator("[aria-current]")
    expect(current).to_have_text(["Phone width", "Dark"])
    iframe = page.locator("iframe.email")
    expect(iframe).to_have_css("color-scheme", "dark")
    # the email is laid out at phone width; the iframe's 1 px border sits outside that
    assert email_frame(page).evaluate("innerWidth") == PHONE < desktop
    assert iframe.evaluate("e => e.clientWidth") == PHONE
    box = iframe.bounding_box()
    assert box is not None and box["width"] == PHONE + 2, box
    screenshot(page, "preview-phone-dark")


@pytest.mark.parametrize("system, switch", [("light", "dark"), ("dark", "light")])
def test_the_scheme_switch_decides_the_email_colours(
    browser: Browser, site: Site, system: Scheme, switch: Scheme
) -> None:
    context = browser.new_context(color_scheme=system)
    try:
        page = context.new_page()
        open_phone_preview(page, site, switch)
        frame = email_frame(page)

        # Chromium gives the iframe the system's prefers-color-scheme whatever `color-scheme`
        # the iframe element has: the preview fixes the email's dark-mode query instead
        background = luminance(frame.locator("body").evaluate(BACKGROUND_JS))
        assert (background < 0.2) == (switch == "dark"), f"background luminance {background}"
    finally:
        context.close()


def test_manage_topics_saves_a_choice(page: Page, site: Site) -> None:
    links = digest_links(page, site, "Grace Hopper")
    page.goto(links["Manage topics"])
    expect(page.get_by_role("checkbox", name="World")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Technology")).not_to_be_checked()
    screenshot(page, "manage")

    page.get_by_role("checkbox", name="Business").uncheck()
    page.get_by_role("button", name="Save my topics").click()

    expect(page.get_by_role("status")).to_have_text("Saved: your next digest brings world.")
    expect(page.get_by_role("checkbox", name="Business")).not_to_be_checked()
    screenshot(page, "manage-saved")
    assert_accessible(page)


def test_unsubscribe_button_then_send_all_skips_that_reader(page: Page, site: Site) -> None:
    links = digest_links(page, site, "Grace Hopper")
    page.goto(links["Unsubscribe"])
    expect(page.get_by_text("Stop sending The Digest to grace@example.org?")).to_be_visible()
    screenshot(page, "unsubscribe")

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribed")
    expect(page.get_by_text("grace@example.org will get no more digests")).to_be_visible()
    screenshot(page, "unsubscribed")
    assert_accessible(page)  # the message page
    page.goto(links["Unsubscribe"])
    expect(page.get_by_text("grace@example.org is already unsubscribed")).to_be_visible()

    sent = site.run("send", "--all")

    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert re.search(r"grace@example\.org: suppressed", sent.stdout), sent.stdout
    assert recipients(site.folder / "outbox") == ["ada@example.com", "kenji@example.net"]
    page.goto(f"{site.url}/")
    grace = page.get_by_role("row").filter(has_text="grace@example.org")
    expect(grace).to_contain_text("(unsubscribed)")


def recipients(outbox: Path) -> list[str]:
    messages = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*.eml")
    ]
    return sorted(str(m["To"].addresses[0].addr_spec) for m in messages)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_has_no_serious_accessibility_problem(
    browser: Browser, site: Site, scheme: Scheme
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        links = digest_links(page, site, "Kenji Sato")
        urls = [
            f"{site.url}/",
            page.url,
            f"{page.url}?width=phone&scheme=dark",
            f"{site.url}/sources",
            links["Manage topics"],
            links["Unsubscribe"],
            f"{site.url}/unsubscribe/not-a-token",  # the message page for a bad link
        ]
        for url in urls:
            page.goto(url)
            assert_accessible(page)
    finally:
        context.close()


def test_the_preview_and_the_subscriber_pages_fit_a_320px_screen(
    browser: Browser, site: Site
) -> None:
    """WCAG reflow: no sideways scrolling (the admin tables are data tables, exempt)."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        links = digest_links(page, site, "Kenji Sato")
        too_wide = {}
        for url in [page.url, links["Manage topics"], links["Unsubscribe"]]:
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                too_wide[url] = width
        assert not too_wide, f"scrollWidth at 320 px: {too_wide}"
    finally:
        context.close()
