"""Feeds over real HTTP: validators, redirects, compression, retries, limits, politeness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from digest.collect import CollectReport, collect
from digest.config import Settings, load_settings
from digest.sourcelist import SourceConfig, SourceList, Topic
from digest.sources.fetch import HostGate
from digest.store import Store

from .conftest import FIXTURES, NOW, billion_laughs
from .feedserver import FeedServer, Route, feed_server

RSS = (FIXTURES / "feeds" / "coast.rss.xml").read_bytes()
TOPICS = (Topic("coast", "Coast", ("weather",)), Topic("farming", "Farming"))


class Sleeps:
    """An injected sleep that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "digest.db")
    yield opened
    opened.close()


def settings(**extra: str) -> Settings:
    return load_settings(None, {"DIGEST_FEED_HOST_DELAY": "0", "DIGEST_FEED_TIMEOUT": "2", **extra})


def run(store: Store, *urls: str, sleeps: Sleeps | None = None, **extra: str) -> CollectReport:
    sources = tuple(
        SourceConfig(f"feed {i}", "feed", url, ("coast",), allow_private=True)
        for i, url in enumerate(urls)
    )
    source_list = SourceList(TOPICS, sources)
    return collect(source_list, store, settings(**extra), NOW, sleep=sleeps or Sleeps())


def test_unchanged_feed_costs_a_304_and_no_parsing(server: FeedServer, store: Store) -> None:
    server.routes["/feed"] = Route(RSS, etag='"v1"', last_modified="Wed, 25 Nov 2026 10:00:00 GMT")

    first = run(store, f"{server.base}/feed")
    second = run(store, f"{server.base}/feed")

    assert first.count("read") == 1 and first.saved.new == 2
    assert second.count("unchanged") == 1
    assert second.total_articles == 0  # nothing was parsed
    assert server.headers_seen[1]["if-none-match"] == '"v1"'
    assert server.headers_seen[1]["if-modified-since"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert server.headers_seen[0]["user-agent"].startswith("digest/")


def test_last_modified_alone_also_gives_304(server: FeedServer, store: Store) -> None:
    server.routes["/feed"] = Route(RSS, last_modified="Wed, 25 Nov 2026 10:00:00 GMT")

    run(store, f"{server.base}/feed")
    second = run(store, f"{server.base}/feed")

    assert second.count("unchanged") == 1


def test_changed_feed_updates_stored_articles(server: FeedServer, store: Store) -> None:
    server.routes["/feed"] = Route(RSS, etag='"v1"')
    run(store, f"{server.base}/feed")
    server.routes["/feed"] = Route(RSS.replace(b"70 mph", b"80 mph"), etag='"v2"')

    report = run(store, f"{server.base}/feed")

    assert (report.saved.new, report.saved.updated, report.saved.unchanged) == (0, 1, 1)


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_compressed_feeds_are_read(server: FeedServer, store: Store, encoding: str) -> None:
    server.routes["/feed"] = Route(RSS, encoding=encoding)

    report = run(store, f"{server.base}/feed")

    assert report.saved.new == 2
    assert "br" in server.headers_seen[0]["accept-encoding"]


def test_permanent_redirect_updates_the_stored_address(server: FeedServer, store: Store) -> None:
    server.routes["/old"] = Route(status=301, location="/new")
    server.routes["/new"] = Route(RSS)

    run(store, f"{server.base}/old")
    run(store, f"{server.base}/old")

    assert server.hits["/old"] == 1
    assert server.hits["/new"] == 2
    assert store.source_state(f"{server.base}/old").fetch_url == f"{server.base}/new"


def test_temporary_redirect_keeps_the_configured_address(server: FeedServer, store: Store) -> None:
    server.routes["/old"] = Route(status=302, location="/new")
    server.routes["/new"] = Route(RSS)

    run(store, f"{server.base}/old")
    run(store, f"{server.base}/old")

    assert server.hits["/old"] == 2
    assert store.source_state(f"{server.base}/old").fetch_url == ""


def test_gone_feed_is_retired_and_not_asked_again(server: FeedServer, store: Store) -> None:
    server.routes["/gone"] = Route(status=410)

    first = run(store, f"{server.base}/gone")
    second = run(store, f"{server.base}/gone")

    assert first.count("retired") == 1 and second.count("retired") == 1
    assert "410 Gone" in str(second.errors[0])
    assert server.hits["/gone"] == 1


def test_server_errors_are_retried_with_backoff(server: FeedServer, store: Store) -> None:
    server.routes["/flaky"] = Route(RSS, fail_first=[503, 500])
    sleeps = Sleeps()

    report = run(store, f"{server.base}/flaky", sleeps=sleeps)

    assert report.saved.new == 2
    assert server.hits["/flaky"] == 3
    assert len(sleeps.calls) == 2 and sleeps.calls[1] > sleeps.calls[0] > 0


def test_persistent_server_error_is_reported_after_the_retries(
    server: FeedServer, store: Store
) -> None:
    server.routes["/down"] = Route(RSS, fail_first=[500, 500, 500, 500])

    report = run(store, f"{server.base}/down")

    assert report.count("failed") == 1
    assert "HTTP 500 after 3 attempts" in str(report.errors[0])
    state = store.source_state(f"{server.base}/down")
    assert state.failures == 1 and "HTTP 500" in state.last_error


def test_too_many_requests_honours_retry_after(server: FeedServer, store: Store) -> None:
    server.routes["/busy"] = Route(RSS, fail_first=[429], retry_after="7")
    sleeps = Sleeps()

    report = run(store, f"{server.base}/busy", sleeps=sleeps)

    assert report.saved.new == 2
    assert sleeps.calls == [7.0]


def test_slow_server_times_out_and_is_reported(server: FeedServer, store: Store) -> None:
    server.routes["/slow"] = Route(RSS, delay=2)

    report = run(store, f"{server.base}/slow", DIGEST_FEED_TIMEOUT="0.3", DIGEST_FEED_RETRIES="1")

    assert report.count("failed") == 1
    assert "Timeout" in str(report.errors[0])


def test_oversized_feed_is_refused(server: FeedServer, store: Store) -> None:
    server.routes["/big"] = Route(RSS + b" " * 5000)
    server.routes["/bomb"] = Route(b"<rss>" + b" " * 200_000 + b"</rss>", encoding="gzip")

    report = run(store, f"{server.base}/big", f"{server.base}/bomb", DIGEST_FEED_MAX_BYTES="4000")

    assert report.count("failed") == 2
    assert all("larger than 4000 bytes" in str(e) for e in report.errors)


def test_billion_laughs_over_http_does_no_harm(server: FeedServer, store: Store) -> None:
    bomb = billion_laughs()
    server.routes["/bomb"] = Route(bomb)

    run(store, f"{server.base}/bomb")

    assert all(len(a.title) < 1000 for a in store.articles_seen_after(None))


def test_one_bad_feed_never_stops_the_others(server: FeedServer, store: Store) -> None:
    server.routes["/good"] = Route(RSS)
    server.routes["/bad"] = Route(b"<html>not a feed</html>")

    report = run(store, f"{server.base}/bad", f"{server.base}/missing", f"{server.base}/good")

    assert report.count("failed") == 2 and report.count("read") == 1
    assert report.saved.new == 2
    assert "HTTP 404" in str(report.errors[1])


def test_loopback_is_refused_unless_the_source_allows_it(server: FeedServer, store: Store) -> None:
    server.routes["/feed"] = Route(RSS)
    source = SourceConfig("private", "feed", f"{server.base}/feed", ("coast",))

    report = collect(SourceList(TOPICS, (source,)), store, settings(), NOW, sleep=Sleeps())

    assert "allow_private: true" in str(report.errors[0])
    assert server.hits["/feed"] == 0


def test_host_gate_spaces_out_requests_to_one_host() -> None:
    sleeps = Sleeps()
    gate = HostGate(delay=5.0, sleep=sleeps)

    class Fake:
        status_code = 200

    gate.request("https://a.example.com/1", lambda: Fake())  # type: ignore[arg-type, return-value]
    gate.request("https://a.example.com/2", lambda: Fake())  # type: ignore[arg-type, return-value]
    gate.request("https://b.example.com/1", lambda: Fake())  # type: ignore[arg-type, return-value]

    assert len(sleeps.calls) == 1 and 4.5 < sleeps.calls[0] <= 5.0


def test_unchanged_feed_file_is_not_parsed_again(tmp_path: Path, store: Store) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(RSS)
    source_list = SourceList(TOPICS, (SourceConfig("file", "feed", str(feed), ("coast",)),))

    first = collect(source_list, store, settings(), NOW)
    second = collect(source_list, store, settings(), NOW + timedelta(hours=1))

    assert first.saved.new == 2
    assert second.count("unchanged") == 1 and second.total_articles == 0


def test_corrupt_compressed_body_fails_that_feed_only(server: FeedServer, store: Store) -> None:
    server.routes["/corrupt"] = Route(b"this is not gzip data", encoding="broken-gzip")
    server.routes["/good"] = Route(RSS)

    report = run(store, f"{server.base}/corrupt", f"{server.base}/good")

    assert report.count("failed") == 1 and report.count("read") == 1
    assert "DecodingError" in str(report.errors[0])
    assert report.saved.new == 2
