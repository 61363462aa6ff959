"""The sample edition's HTML email in real Chromium: layout, headlines, dark mode, markup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pytest
from playwright.sync_api import Browser, Locator, Page

from .browser import artifact_path
from .conftest import open_sample_runtime, sample_edition

Scheme = Literal["light", "dark"]
SIZES = pytest.mark.parametrize("width", [375, 800])
SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])
COLUMN = 600  # the MJML body width

# The first ancestor (or the element itself) with a visible background colour.
BACKGROUND_JS = """element => {
    for (let e = element; e; e = e.parentElement) {
        const colour = getComputedStyle(e).backgroundColor;
        if (!/^rgba\\(.*, 0\\)$/.test(colour) && colour !== "transparent") return colour;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
}"""


@dataclass(frozen=True)
class SampleEmail:
    html: str
    headlines: tuple[str, ...]
    labels: tuple[str, ...]


@pytest.fixture(scope="module")
def email(tmp_path_factory: pytest.TempPathFactory) -> SampleEmail:
    """Rendered once: like conftest's sample_runtime, but module-scoped to keep the file fast."""
    runtime = open_sample_runtime(tmp_path_factory.mktemp("sample"))
    try:
        edition = sample_edition(runtime)
        html = runtime.send_context.composer.render(edition).html
    finally:
        runtime.close()
    headlines = tuple(story.lead.title for story in edition.stories)
    return SampleEmail(html, headlines, tuple(s.label for s in edition.sections))


@pytest.fixture
def width() -> int:
    return 800


@pytest.fixture
def scheme() -> Scheme:
    return "light"


@pytest.fixture
def page(browser: Browser, email: SampleEmail, width: int, scheme: Scheme) -> Iterator[Page]:
    """The email as a mail client shows it: no scripts, no remote images, width x 900 px."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.route(lambda url: not url.startswith("data:"), lambda route: route.abort())
        page.set_content(email.html)
        yield page
    finally:
        context.close()


def luminance(colour: str) -> float:
    """WCAG relative luminance of a computed CSS colour such as `rgb(31, 35, 40)`."""
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, [\d.]+)?\)", colour)
    assert match, f"not a computed rgb() colour: {colour}"
    channels = [int(value) / 255 for value in match.groups()]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def headline_link(page: Page, headline: str) -> Locator:
    """The story's own link: "Related:" links may read the same, but a headline is set largest."""
    links = page.get_by_role("link", name=headline, exact=True)
    sizes = links.evaluate_all("links => links.map(a => parseFloat(getComputedStyle(a).fontSize))")
    assert sizes, f"no link reads {headline!r}"
    return links.nth(sizes.index(max(sizes)))


def headline_boxes(page: Page, email: SampleEmail) -> dict[str, tuple[float, float]]:
    """Left and right edge of each headline link."""
    boxes = {}
    for headline in email.headlines:
        box = headline_link(page, headline).bounding_box()
        assert box, f"no box for {headline!r}"
        boxes[headline] = (box["x"], box["x"] + box["width"])
    return boxes


@SIZES
@SCHEMES
def test_screenshot(page: Page, width: int, scheme: Scheme) -> None:
    path = artifact_path("email", f"sample-{width}-{scheme}.png")
    page.screenshot(path=path, full_page=True)

    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
    assert int.from_bytes(data[16:20], "big") == width  # the PNG header's image width


@SIZES
def test_nothing_scrolls_sideways(page: Page, width: int) -> None:
    scroll = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert scroll[0] <= width and scroll[1] <= width, f"scrollWidth (html, body): {scroll}"


@SIZES
def test_headlines_sit_in_one_column_within_the_viewport(
    page: Page, email: SampleEmail, width: int
) -> None:
    for headline, (left, right) in headline_boxes(page, email).items():
        assert right - left <= COLUMN, f"{headline!r} is {right - left}px wide"
        assert left >= 0 and right <= width, f"{headline!r} spans {left}..{right}px"


@SIZES
@SCHEMES
def test_every_headline_is_a_visible_link(page: Page, email: SampleEmail, width: int) -> None:
    assert email.headlines
    for headline in email.headlines:
        links = page.get_by_role("link", name=headline, exact=True)
        assert links.count(), f"no link reads {headline!r}"
        for link in links.all():
            box = link.bounding_box()
            assert link.is_visible() and box and box["width"] and box["height"], headline
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{headline!r}: {box}"


@SIZES
@SCHEMES
def test_headlines_follow_the_colour_scheme(page: Page, email: SampleEmail, scheme: Scheme) -> None:
    wrong = []
    for headline in email.headlines:
        link = headline_link(page, headline)
        text = luminance(link.evaluate("e => getComputedStyle(e).color"))
        background = luminance(link.evaluate(BACKGROUND_JS))
        dark_ok = background < 0.2 and text > 0.5
        light_ok = background > 0.5 and text < 0.2
        if not (dark_ok if scheme == "dark" else light_ok):
            wrong.append(f"{headline!r}: text {text:.3f} on background {background:.3f}")
    assert not wrong, f"{scheme} scheme, luminances:\n" + "\n".join(wrong)


def test_declares_light_and_dark_support(page: Page) -> None:
    meta = page.locator('meta[name="color-scheme"]')
    assert meta.count() == 1, "no <meta name=color-scheme>"
    assert meta.get_attribute("content") == "light dark"


def test_section_labels_are_h2_headings(page: Page, email: SampleEmail) -> None:
    labels = [text.strip() for text in page.locator("h2").all_text_contents()]
    assert labels == list(email.labels)


def test_document_declares_its_language(page: Page) -> None:
    assert page.evaluate("document.documentElement.lang")


def test_images_have_alt_text(page: Page) -> None:
    images = page.locator("img").evaluate_all("imgs => imgs.map(i => [i.src, i.alt.trim()])")
    assert [src for src, alt in images if not alt] == []


def test_layout_tables_are_presentational(page: Page) -> None:
    roles = page.locator("table").evaluate_all("tables => tables.map(t => t.getAttribute('role'))")
    assert roles and set(roles) == {"presentation"}


def test_links_are_absolute_or_point_inside_the_email(page: Page) -> None:
    hrefs = page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    ids = set(page.locator("[id]").evaluate_all("nodes => nodes.map(n => n.id)"))
    bad = [
        href
        for href in hrefs
        if not re.match(r"https?://[^/\s]+", href)
        and not (href.startswith("#") and href[1:] in ids)
    ]
    assert hrefs and bad == []
