"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org), parsed into Articles like RSS and Atom."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from digest.errors import SourceError
from digest.htmltext import html_to_text, plain_line, sanitise_html
from digest.models import Article
from digest.sourcelist import SourceConfig
from digest.sources.dates import utc_from_iso
from digest.sources.encoding import decode_bytes, split_bom
from digest.sources.fields import string_field
from digest.sources.result import TopicMapper, article_id

VERSION_PREFIX = "https://jsonfeed.org/version/"
_TITLE_CHARS = 80


def looks_like_json(data: bytes) -> bool:
    """True when the first character after an optional byte-order mark and space is `{`."""
    codec, rest = split_bom(data)
    # without a mark, latin-1 keeps every byte as it is: only ASCII matters here
    text = rest.decode(codec or "latin-1", errors="ignore")
    return text.lstrip(" \t\r\n").startswith("{")


def parse_json_feed(
    data: bytes, source: SourceConfig, map_topics: TopicMapper, now: datetime
) -> list[Article]:
    """Articles from a JSON Feed's items; invalid JSON raises SourceError with its line."""
    feed = _load(data, source.location)
    base = string_field(feed, "home_page_url") or string_field(feed, "feed_url")
    base = base or (source.location if source.is_url else "")
    outlet = plain_line(string_field(feed, "title")) or source.name
    items = [item for item in feed["items"] if isinstance(item, dict)]
    articles = [_article(item, source, outlet, base, map_topics, now) for item in items]
    # the feed's author writes every item that names no author of its own
    feed_author = _author(feed)
    return [a if a.author else replace(a, author=feed_author) for a in articles]


def _load(data: bytes, location: str) -> dict[str, Any]:
    """The feed object, checked to be a JSON Feed with a list of items."""
    try:
        document: object = json.loads(decode_bytes(data))
    except json.JSONDecodeError as exc:
        message = f"not valid JSON ({exc.msg}, column {exc.colno}); check the file or URL."
        raise SourceError(location, message, exc.lineno) from exc
    except (ValueError, RecursionError) as exc:  # numbers too long, nesting too deep
        raise SourceError(location, f"not a readable JSON document ({exc}).") from exc
    if not isinstance(document, dict) or not _is_version(document.get("version")):
        message = f"JSON, but not a JSON Feed: `version` must start with {VERSION_PREFIX}."
        raise SourceError(location, message)
    if not isinstance(document.get("items"), list):
        raise SourceError(location, "JSON, but not a JSON Feed: it has no `items` list.")
    return document


def _is_version(value: object) -> bool:
    return isinstance(value, str) and value.startswith(VERSION_PREFIX)


def _article(
    item: dict[str, Any], source: SourceConfig, outlet: str, base: str, map_topics: TopicMapper,
    now: datetime,
) -> Article:  # fmt: skip
    url = _item_url(item, base)
    body_html, standfirst = _body_and_standfirst(item)
    text = html_to_text(body_html)
    title = plain_line(string_field(item, "title")) or _shorten(text) or "(untitled)"
    guid = _item_id(item) or url or f"{source.location}#{title}"
    labels = tuple(tag for tag in _list(item, "tags") if isinstance(tag, str))
    return Article(
        guid=guid,
        url=url,
        title=title,
        text=text,
        source=outlet,
        published=_date(item, "date_published") or _date(item, "date_modified") or now,
        topics=map_topics(labels) or source.topics,
        standfirst=standfirst,
        html=body_html,
        author=_author(item),
        id=article_id(guid),
    )


def _body_and_standfirst(item: dict[str, Any]) -> tuple[str, str]:
    """The content as safe HTML; the summary is the standfirst when there is content."""
    summary = plain_line(string_field(item, "summary"))
    body = sanitise_html(string_field(item, "content_html")).strip()
    body = body or _paragraphs_html(string_field(item, "content_text"))
    return (body, summary) if body else (_paragraphs_html(summary), "")


def _paragraphs_html(text: str) -> str:
    """Plain text as escaped <p> paragraphs, split at blank lines."""
    blocks = (" ".join(block.split()) for block in text.replace("\r\n", "\n").split("\n\n"))
    return "".join(f"<p>{html.escape(block, quote=False)}</p>" for block in blocks if block)


def _item_url(item: dict[str, Any], base: str) -> str:
    """The item's own address (else its external one), absolute; only http(s) is kept."""
    link = string_field(item, "url") or string_field(item, "external_url")
    try:
        url = urljoin(base, link.strip())
    except ValueError:  # a malformed address, such as an unclosed IPv6 bracket
        return ""
    return url if url.startswith(("http://", "https://")) else ""


def _item_id(item: dict[str, Any]) -> str:
    # JSON Feed 1.0 publishers sometimes give numbers; the spec says to treat them as text
    value = item.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return str(value).strip()


def _author(entry: dict[str, Any]) -> str:
    """The first of 1.1's `authors`, else 1.0's `author`."""
    authors = [a for a in _list(entry, "authors") if isinstance(a, dict)]
    author = authors[0] if authors else entry.get("author")
    return plain_line(string_field(author, "name")) if isinstance(author, dict) else ""


def _date(item: dict[str, Any], key: str) -> datetime | None:
    """An RFC 3339 date in UTC; a missing or unreadable one is None."""
    return utc_from_iso(string_field(item, key).strip().upper())


def _shorten(text: str) -> str:
    """The start of the text as a title: at most 80 characters, cut between words."""
    line = " ".join(text.split())
    if len(line) <= _TITLE_CHARS:
        return line
    head = line[: _TITLE_CHARS - 1]
    words = head.rsplit(" ", 1)[0] if " " in head else head
    return words.rstrip(" ,.;:") + "…"


def _list(mapping: dict[str, Any], key: str) -> list[Any]:
    value = mapping.get(key)
    return value if isinstance(value, list) else []
