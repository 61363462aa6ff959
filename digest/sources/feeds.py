"""Feeds (RSS, Atom, JSON Feed): bytes in, normalised Articles out."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from digest.errors import SourceError
from digest.htmltext import html_to_text, plain_line, sanitise_html
from digest.models import Article
from digest.sourcelist import SourceConfig
from digest.sources.fields import string_field
from digest.sources.jsonfeed import looks_like_json, parse_json_feed
from digest.sources.result import TopicMapper, article_id


def parse_feed(
    data: bytes, source: SourceConfig, map_topics: TopicMapper, now: datetime
) -> list[Article]:
    """Articles from the feed's entries; an unreadable feed raises SourceError with its line.

    RSS and Atom go to feedparser; a JSON document is read as a JSON Feed.
    """
    if looks_like_json(data):
        return parse_json_feed(data, source, map_topics, now)
    try:
        parsed = feedparser.parse(data)
    except (ValueError, LookupError) as exc:  # a garbled encoding declaration
        message = f"not a readable RSS or Atom feed ({exc}); check the file or URL."
        raise SourceError(source.location, message) from exc
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        problem = parsed.get("bozo_exception")
        line = problem.getLineNumber() if hasattr(problem, "getLineNumber") else None
        message = f"not a readable RSS or Atom feed ({problem}); check the file or URL."
        raise SourceError(source.location, message, line)
    feed_link = parsed.feed.get("link") or (source.location if source.is_url else "")
    outlet = plain_line(string_field(parsed.feed, "title")) or source.name
    return [_article(entry, source, outlet, feed_link, map_topics, now) for entry in parsed.entries]


def _article(
    entry: Any, source: SourceConfig, outlet: str, feed_link: str, map_topics: TopicMapper,
    now: datetime,
) -> Article:  # fmt: skip
    link = _absolute(feed_link, string_field(entry, "link"))
    title = plain_line(string_field(entry, "title")) or "(untitled)"
    guid = entry.get("id") or link or f"{source.location}#{title}"
    body_html, standfirst = _body_and_standfirst(entry)
    labels = tuple(string_field(tag, "term") for tag in entry.get("tags") or [])
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
        author=plain_line(string_field(entry, "author")),
        id=article_id(guid),
    )


def _body_and_standfirst(entry: Any) -> tuple[str, str]:
    """The full content when the feed has it (its summary then serves as standfirst)."""
    summary = sanitise_html(string_field(entry, "summary"))
    contents = entry.get("content") or []
    if not contents:
        return summary, ""
    body = sanitise_html(string_field(contents[0], "value"))
    standfirst = html_to_text(summary)
    # feedparser copies the content into a missing summary: that is no standfirst
    return body, "" if html_to_text(body).startswith(standfirst) else standfirst


def _entry_date(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = dict.get(entry, key)  # plain dict lookup: no feedparser fallback warnings
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _absolute(base: str, link: str) -> str:
    try:
        return urljoin(base, link)
    except ValueError:  # e.g. "Invalid IPv6 URL" from a stray bracket
        return ""
