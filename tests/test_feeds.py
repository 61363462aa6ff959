from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from digest.errors import SourceError
from digest.sourcelist import SourceConfig
from digest.sources.feeds import fetch_url, parse_feed, read_feed
from digest.sources.netguard import check_public_url

from .conftest import FIXTURES, NOW
from .servers import http_server


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
    source = feed_source(str(FIXTURES / "feeds" / "broken.xml"))
    with httpx.Client() as client:
        result = read_feed(source, no_topics, client, NOW, 1_000_000)

    assert result.articles == []
    (error,) = result.errors
    assert "broken.xml" in str(error)
    assert error.line is not None
    assert "not a readable RSS or Atom feed" in str(error)


def test_missing_feed_file_is_reported() -> None:
    with httpx.Client() as client:
        result = read_feed(feed_source("/nonexistent/feed.xml"), no_topics, client, NOW, 1000)

    assert "cannot read the feed file" in str(result.errors[0])


def test_feed_over_http_from_a_real_server(tmp_path: Path) -> None:
    (tmp_path / "coast.xml").write_bytes((FIXTURES / "feeds" / "coast.rss.xml").read_bytes())
    with http_server(tmp_path) as base, httpx.Client() as client:
        result = read_feed(
            feed_source(f"{base}/coast.xml", allow_private=True), no_topics, client, NOW, 1_000_000
        )

    assert result.errors == []
    assert next(a.title for a in result.articles).startswith("Gull Point Light")


def test_redirects_are_followed_and_limited(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes((FIXTURES / "feeds" / "farming.atom.xml").read_bytes())
    loop = {f"/hop{i}": f"/hop{i + 1}" for i in range(10)}
    with http_server(tmp_path, {"/old": "/feed.xml", **loop}) as base, httpx.Client() as client:
        data = fetch_url(f"{base}/old", client, 1_000_000, allow_private=True)
        with pytest.raises(SourceError, match="more than 5 redirects"):
            fetch_url(f"{base}/hop0", client, 1_000_000, allow_private=True)

    assert b"Field and Fold" in data


def test_http_errors_and_oversized_feeds_are_reported(tmp_path: Path) -> None:
    (tmp_path / "big.xml").write_bytes(b"<rss>" + b"x" * 5000 + b"</rss>")
    with http_server(tmp_path) as base, httpx.Client() as client:
        with pytest.raises(SourceError, match="HTTP 404"):
            fetch_url(f"{base}/missing.xml", client, 1000, allow_private=True)
        with pytest.raises(SourceError, match="larger than 1000 bytes"):
            fetch_url(f"{base}/big.xml", client, 1000, allow_private=True)


def test_loopback_feed_is_refused_unless_allowed(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes((FIXTURES / "feeds" / "farming.atom.xml").read_bytes())
    with http_server(tmp_path) as base, httpx.Client() as client:
        result = read_feed(feed_source(f"{base}/feed.xml"), no_topics, client, NOW, 1_000_000)

    assert result.articles == []
    assert "allow_private: true" in str(result.errors[0])


def test_private_and_non_http_addresses_are_refused() -> None:
    with pytest.raises(SourceError, match="non-public address"):
        check_public_url("http://127.0.0.1:9/feed")
    with pytest.raises(SourceError, match="non-public address"):
        check_public_url("http://[::1]/feed")
    with pytest.raises(SourceError, match="non-public address"):
        check_public_url("http://169.254.169.254/latest/meta-data")
    with pytest.raises(SourceError, match="only http"):
        check_public_url("file:///etc/passwd")


def test_unreachable_server_is_reported() -> None:
    with httpx.Client(timeout=2) as client, pytest.raises(SourceError, match="fetch failed"):
        fetch_url("http://127.0.0.1:9/feed.xml", client, 1000, allow_private=True)
