"""Our own hostile corpus through the whole pipeline: the email it makes runs nothing.

tests/fixtures/hostile holds an RSS, an Atom and a JSON feed, a plain-text article, a
Markdown article and a saved page, with script payloads in every field that can reach the
email. They are collected, made into an edition and composed; the HTML part is checked as
markup (lxml) and then opened in Chromium with the network cut off.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import lxml.html
import pytest
from lxml import etree
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Request, Route

from digest.collect import CollectReport, collect
from digest.editions import next_edition
from digest.models import Edition

from .conftest import FIXTURES, NOW, write_project

HOSTILE_SOURCES = """\
topics:
  ferries: {label: Ferries}
  lifeboats: {label: Lifeboats}
  regatta: {label: Regatta}
  breakwater: {label: Breakwater}
  market: {label: Market}
  harbour: {label: 'Harbour <script>alert(1)</script>'}
sources:
  - {name: Hostile RSS, feed: hostile/feeds/hostile.rss.xml, topics: [ferries]}
  - {name: Hostile Atom, feed: hostile/feeds/hostile.atom.xml, topics: [lifeboats]}
  - {name: Hostile JSON, feed: hostile/feeds/hostile.feed.json, topics: [regatta]}
  - {name: 'Desk <img src=x onerror=alert(1)>', folder: hostile/articles, topics: [harbour]}
"""
HOSTILE_SUBSCRIBERS = """\
subscribers:
  - email: target@example.com
    name: Tess Target
    topics: [ferries, lifeboats, regatta, breakwater, market, harbour]
"""
# One headline of each file of the corpus (JSON Feed: two items, two stories)
HEADLINES = (
    "Night Ferry",  # RSS
    "Harbour Crane Topples",  # RSS and Atom: one story, "also covered by"
    "Lifeboat Crew",  # Atom
    "Regatta Postponed",  # JSON Feed, content_html
    "Dinghy Club Elects",  # JSON Feed, content_text
    "Breakwater Repairs",  # seed-layout .txt
    "Fish Market Moves",  # .md, and a related headline of the .txt
    "Lighthouse Keeper",  # saved .html page
)
FORBIDDEN_TAGS = (
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "textarea", "select", "svg", "math", "base", "portal", "mj-raw",
)  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster", "data", "cite"}
TEXT_ATTRIBUTES = {"alt", "title", "aria-label"}  # prose: headlines may show there as text
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
BAD_CSS = ("expression(", "javascript:", "vbscript:", "url(data:", "behavior:", "-moz-binding")
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
EMAIL_WIDTH = 600
HtmlElement = lxml.html.HtmlElement


@dataclass(frozen=True)
class HostileDigest:
    report: CollectReport
    edition: Edition
    message: EmailMessage
    html: str
    text: str

    def document(self) -> HtmlElement:
        return lxml.html.document_fromstring(self.html)

    def html_text(self) -> str:
        return " ".join(self.document().text_content().split())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileDigest]:
    root = tmp_path_factory.mktemp("hostile")
    project = write_project(root)
    shutil.copytree(FIXTURES / "hostile", root / "hostile")
    for path in (root / "hostile" / "articles").iterdir():
        os.utime(path, (NOW.timestamp(), NOW.timestamp()))
    (root / "sources.yaml").write_text(HOSTILE_SOURCES, encoding="utf-8")
    (root / "subscribers.yaml").write_text(HOSTILE_SUBSCRIBERS, encoding="utf-8")
    runtime = project.runtime()
    try:
        report = collect(runtime.sources, runtime.store, runtime.settings, NOW)
        ctx = runtime.send_context
        edition = next_edition(
            runtime.subscribers[0], runtime.store, ctx.labels, runtime.settings, NOW
        )
        message = message_from_bytes(ctx.composer.envelope(edition).data, policy=policy.default)
    finally:
        runtime.close()
    assert isinstance(message, EmailMessage)
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    assert html_part is not None and text_part is not None
    yield HostileDigest(report, edition, message, html_part.get_content(), text_part.get_content())


def normalised(value: str) -> str:
    """An attribute or style as a browser reads it: entities decoded, no blanks or controls."""
    return _INVISIBLE.sub("", html.unescape(html.unescape(value))).lower()


def attributes(document: HtmlElement) -> Iterator[tuple[HtmlElement, str, str]]:
    """Every attribute of every element (not comments), its name lower case."""
    for element in document.iter(etree.Element):
        for name, value in element.attrib.items():
            yield element, str(name).lower(), str(value)


def is_url_attribute(name: str) -> bool:
    local = name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]  # xlink:href, {namespace}href
    return local in URL_ATTRIBUTES or local.endswith("href")


def is_safe_link(value: str) -> bool:
    """An absolute http(s) address, an in-page `#anchor` or a mailto: address."""
    parts = urlsplit(value)
    web = parts.scheme in {"http", "https"} and bool(parts.netloc) and value == value.strip()
    return web or parts.scheme == "mailto" or re.fullmatch(r"#[\w-]+", value) is not None


def test_collect_refuses_the_markdown_article_with_a_javascript_url(
    hostile: HostileDigest,
) -> None:
    (error,) = hostile.report.errors
    assert "rejected-link.md" in str(error) and "must be a full web address" in str(error)
    assert "Pilot Gig" not in hostile.html


def test_every_hostile_article_reaches_both_parts_as_text(hostile: HostileDigest) -> None:
    words = hostile.html_text()
    for story in hostile.edition.stories:
        assert " ".join(story.lead.title.split()) in words
    for headline in HEADLINES:
        assert headline in words
        assert headline in hostile.text
    # the payloads are shown, escaped, not silently lost: the test is not vacuous
    for payload in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<mj-raw>"):
        assert payload in words
        assert payload in hostile.text
    assert any(story.also for story in hostile.edition.stories)
    assert any(story.related for story in hostile.edition.stories)


def test_no_active_elements_or_oversized_images(hostile: HostileDigest) -> None:
    document = hostile.document()
    found = [element.tag for element in document.iter(*FORBIDDEN_TAGS)]
    assert found == []
    refresh = document.xpath("//meta[translate(@http-equiv, 'REFSH', 'refsh')='refresh']")
    assert refresh == []
    for image in document.iter("img"):
        assert int(image.get("width", "0") or 0) <= EMAIL_WIDTH
    for comment in document.xpath("//comment()"):  # Outlook reads conditional comments
        assert not re.search("<script|javascript:", normalised(comment.text or ""))
    assert "<mj-raw" not in hostile.html.lower()


def test_no_event_handler_attributes(hostile: HostileDigest) -> None:
    handlers = [
        f"{element.tag} {name}"
        for element, name, _ in attributes(hostile.document())
        if name.startswith("on")
    ]
    assert handlers == []


def test_every_link_is_absolute_http_or_a_table_of_contents_anchor(
    hostile: HostileDigest,
) -> None:
    bad = [
        f"{element.tag} {name}={value!r}"
        for element, name, value in attributes(hostile.document())
        if is_url_attribute(name) and not is_safe_link(value)
    ]
    assert bad == []


def test_no_script_scheme_in_any_attribute(hostile: HostileDigest) -> None:
    bad = [
        f"{element.tag} {name}={value!r}"
        for element, name, value in attributes(hostile.document())
        if name not in TEXT_ATTRIBUTES
        and any(scheme in normalised(value) for scheme in BAD_SCHEMES)
    ]
    assert bad == []


def test_styles_hold_no_expressions_or_script_urls(hostile: HostileDigest) -> None:
    document = hostile.document()
    styles = [value for _, name, value in attributes(document) if name == "style"]
    styles += [element.text_content() for element in document.iter("style")]
    # IE read `expr/**/ession(` and `expr\\ession(` as `expression(`
    bare = [re.sub(r"/\*.*?\*/|\\", "", normalised(style)) for style in styles]
    bad = [style for style in bare if any(css in style for css in BAD_CSS)]
    assert bad == []


def test_template_syntax_in_articles_is_printed_not_evaluated(hostile: HostileDigest) -> None:
    for part in (hostile.html_text(), hostile.text):
        assert "{{ 7*7 }}" in part and "{{ 191*7 }}" in part and "{% raw %}" in part
        assert re.search(r"\b(49|1337)\b", part) is None


def test_headlines_cannot_inject_headers(hostile: HostileDigest) -> None:
    assert hostile.message["Bcc"] is None
    assert "\n" not in hostile.message["Subject"]
    assert [part.get_content_type() for part in hostile.message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]


# What Chromium's own parser made of the page: what could run, and links it would follow
_ACTIVE_IN_DOM = """() => {
  const active = ['script', 'iframe', 'frame', 'object', 'embed', 'applet', 'form', 'svg',
                  'math', 'base'];
  const found = [];
  for (const e of document.querySelectorAll('*')) {
    if (active.includes(e.localName)) found.push(e.localName);
    if (e.localName === 'meta' && /refresh/i.test(e.httpEquiv)) found.push('meta refresh');
    for (const a of e.attributes) {
      if (a.name.startsWith('on')) found.push(`${e.localName} ${a.name}`);
      if (!/(^|:)(\\w*href|src|action|formaction|background|poster|data)$/.test(a.name)) continue;
      let protocol = 'invalid';
      try { protocol = new URL(a.value, 'https://example.invalid/').protocol; } catch {}
      if (!['http:', 'https:', 'mailto:'].includes(protocol)) found.push(`${a.name}=${a.value}`);
    }
    for (const type of ['mouseover', 'focus']) e.dispatchEvent(new Event(type));
  }
  return found;
}"""


def test_nothing_runs_in_chromium(browser: Browser, hostile: HostileDigest) -> None:
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    requests: list[str] = []
    fired: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        fired.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if not message.text.startswith("Failed to load resource"):  # our aborts, below
            fired.append(f"console: {message.text}")

    def on_request(request: Request) -> None:
        requests.append(request.url)

    def abort(route: Route) -> None:
        route.abort()

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: fired.append(f"error: {error}"))
    page.on("request", on_request)
    page.route("**/*", abort)
    try:
        page.set_content(hostile.html, wait_until="load")
        active = page.evaluate(_ACTIVE_IN_DOM)
        page.wait_for_timeout(500)
        pwned = page.evaluate("window.__pwned")
    finally:
        context.close()
    assert active == []
    assert fired == []
    assert pwned is None
    assert [url for url in requests if url.lower().startswith(("javascript:", "data:"))] == []
