"""RSS and Atom feeds, from a URL (httpx) or a file, parsed by feedparser."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import httpx

from digest.errors import SourceError
from digest.htmltext import html_to_text, plain_line, sanitise_html
from digest.models import Article
from digest.sourcelist import SourceConfig
from digest.sources.netguard import check_public_url
from digest.sources.result import SourceResult, TopicMapper, article_id

USER_AGENT = "digest/0.1 (self-hosted newsletter digest; feed reader)"
MAX_REDIRECTS = 5


def read_feed(
    source: SourceConfig,
    map_topics: TopicMapper,
    client: httpx.Client,
    now: datetime,
    max_bytes: int,
) -> SourceResult:
    """Fetch (or read) one feed and turn its entries into Articles."""
    result = SourceResult(source.name)
    try:
        data = _load(source, client, max_bytes)
        result.articles = parse_feed(data, source, map_topics, now)
    except SourceError as error:
        result.errors.append(error)
    return result


def _load(source: SourceConfig, client: httpx.Client, max_bytes: int) -> bytes:
    if source.is_url:
        return fetch_url(source.location, client, max_bytes, allow_private=source.allow_private)
    path = Path(source.location)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        message = f"cannot read the feed file ({exc.strerror}); fix `feed:` in the sources file."
        raise SourceError(str(path), message) from exc
    if len(data) > max_bytes:
        raise SourceError(str(path), f"feed is larger than {max_bytes} bytes; it was skipped.")
    return data


def fetch_url(url: str, client: httpx.Client, max_bytes: int, *, allow_private: bool) -> bytes:
    """GET a feed, following at most five redirects, each checked against private addresses."""
    for _ in range(MAX_REDIRECTS + 1):
        if not allow_private:
            check_public_url(url)
        try:
            with client.stream("GET", url, headers={"User-Agent": USER_AGENT}) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise SourceError(url, f"HTTP {response.status_code}; check the feed URL.")
                return _read_limited(response, url, max_bytes)
        except httpx.HTTPError as exc:
            raise SourceError(url, f"fetch failed ({type(exc).__name__}: {exc}).") from exc
    raise SourceError(url, f"more than {MAX_REDIRECTS} redirects; fix the feed URL.")


def _read_limited(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise SourceError(url, f"feed is larger than {max_bytes} bytes; it was skipped.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_feed(
    data: bytes, source: SourceConfig, map_topics: TopicMapper, now: datetime
) -> list[Article]:
    """Articles from the feed's entries; an unreadable feed raises SourceError with its line."""
    parsed = feedparser.parse(data)
    if parsed.bozo and not parsed.entries:
        problem = parsed.get("bozo_exception")
        line = problem.getLineNumber() if hasattr(problem, "getLineNumber") else None
        message = f"not a readable RSS or Atom feed ({problem}); check the file or URL."
        raise SourceError(source.location, message, line)
    feed_link = parsed.feed.get("link") or (source.location if source.is_url else "")
    outlet = plain_line(parsed.feed.get("title", "")) or source.name
    return [_article(entry, source, outlet, feed_link, map_topics, now) for entry in parsed.entries]


def _article(
    entry: Any, source: SourceConfig, outlet: str, feed_link: str, map_topics: TopicMapper,
    now: datetime,
) -> Article:  # fmt: skip
    link = urljoin(feed_link, entry.get("link", ""))
    title = plain_line(entry.get("title", "")) or "(untitled)"
    guid = entry.get("id") or link or f"{source.location}#{title}"
    body_html, standfirst = _body_and_standfirst(entry)
    labels = tuple(tag.get("term", "") for tag in entry.get("tags", []))
    return Article(
        guid=guid,
        url=link if link.startswith(("http://", "https://")) else "",
        title=title,
        text=html_to_text(body_html),
        source=outlet,
        published=_entry_date(entry) or now,
        topics=map_topics(labels) or source.topics,
        standfirst=standfirst,
        html=body_html,
        author=plain_line(entry.get("author", "")),
        id=article_id(guid),
    )


def _body_and_standfirst(entry: Any) -> tuple[str, str]:
    """The full content when the feed has it (its summary then serves as standfirst)."""
    summary = sanitise_html(entry.get("summary", ""))
    contents = entry.get("content") or []
    if not contents:
        return summary, ""
    body = sanitise_html(contents[0].get("value", ""))
    standfirst = html_to_text(summary)
    # feedparser copies the content into a missing summary: that is no standfirst
    return body, "" if html_to_text(body).startswith(standfirst) else standfirst


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None
