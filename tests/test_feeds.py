from datetime import UTC, datetime

import pytest

from digest.errors import SourceError
from digest.sourcelist import SourceConfig
from digest.sources.feeds import parse_feed
from digest.sources.netguard import check_public_url

from .conftest import FIXTURES, NOW, billion_laughs


def no_topics(labels: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(label.lower() for label in labels if label.lower() in {"coast", "farming"})


def feed_source(location: str, **options: object) -> SourceConfig:
    return SourceConfig(name="test feed", kind="feed", location=location, **options)  # type: ignore[arg-type]


def test_rss_items_become_clean_articles() -> None:
    data = (FIXTURES / "feeds" / "coast.rss.xml").read_bytes()

    first, second = parse_feed(data, feed_source("coast.rss.xml"), no_topics, NOW)

    assert first.title == "Gull Point Light Goes Automatic as Keepers Retire"
    assert first.source == "Shoreline Post"
    assert first.topics == ("coast",)
    assert first.published == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert first.text.startswith("Keepers Wendy and Tom Marsh")
    for hostile in ("<script", "alert(1)", "javascript:", "onclick"):
        assert hostile not in first.html
    # relative links resolve against the feed's site; content:encoded wins over description
    assert second.url == "https://shoreline.example.net/storm-warning"
    assert second.text.startswith("The forecasters expect gales")
    assert second.standfirst.startswith("Gales of up to 70 mph")


def test_atom_entry_with_html_title_author_and_summary() -> None:
    data = (FIXTURES / "feeds" / "farming.atom.xml").read_bytes()

    (entry,) = parse_feed(data, feed_source("farming.atom.xml"), no_topics, NOW)

    assert entry.title == "Brenn Valley Apple Glut & Falling Prices"
    assert entry.author == "Iris Penhale"
    assert entry.topics == ("farming",)
    assert entry.url == "https://fieldandfold.example.org/brenn-apple-glut"
    assert entry.guid == "urn:example:fieldandfold:77"


def test_entry_without_date_gets_the_collect_time_and_source_topics() -> None:
    data = b"""<rss version="2.0"><channel><title>T</title><link>https://t.example.com/</link>
    <item><title>Undated</title><link>https://t.example.com/a</link><description>Hi.</description></item>
    </channel></rss>"""

    (entry,) = parse_feed(data, feed_source("t.xml", topics=("coast",)), no_topics, NOW)

    assert entry.published == NOW
    assert entry.topics == ("coast",)


def test_broken_feed_names_file_and_line() -> None:
    path = FIXTURES / "feeds" / "broken.xml"

    with pytest.raises(SourceError) as caught:
        parse_feed(path.read_bytes(), feed_source(str(path)), no_topics, NOW)

    assert "broken.xml" in str(caught.value)
    assert caught.value.line is not None
    assert "not a readable RSS or Atom feed" in str(caught.value)


def test_html_page_is_not_a_feed() -> None:
    page = b"<html><body><p>Welcome to our site</p></body></html>"

    with pytest.raises(SourceError, match="not a readable RSS or Atom feed"):
        parse_feed(page, feed_source("https://x.example.com/"), no_topics, NOW)


def test_entity_expansion_cannot_blow_up() -> None:
    """A billion-laughs document is refused or read unexpanded, at once and in little memory."""
    bomb = billion_laughs()

    try:
        articles = parse_feed(bomb, feed_source("bomb.xml"), no_topics, NOW)
    except SourceError:
        articles = []

    assert all(len(a.title) < 1000 and len(a.text) < 1000 for a in articles)


def test_private_and_non_http_addresses_are_refused() -> None:
    with pytest.raises(SourceError, match="non-public address"):
        check_public_url("http://127.0.0.1:9/feed")
    with pytest.raises(SourceError, match="non-public address"):
        check_public_url("http://[::1]/feed")
    with pytest.raises(SourceError, match="non-public address"):
        check_public_url("http://169.254.169.254/latest/meta-data")
    with pytest.raises(SourceError, match="non-public address"):
        check_public_url("http://10.1.2.3/feed")
    with pytest.raises(SourceError, match="only http"):
        check_public_url("file:///etc/passwd")
