"""Saved web pages: the article's own text and metadata, without menus, comments or footers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import trafilatura
from trafilatura.settings import Document
from trafilatura.utils import load_html

from digest.errors import SourceError
from digest.htmltext import plain_line
from digest.sources.dates import utc_from_iso

# Dates from the page's markup only (not guessed from its prose), with time and offset
_DATE_OPTIONS = {
    "extensive_search": False,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
# trafilatura skips menus and footers, but falls back to them when nothing else is left
_NEVER_ARTICLE = ["//nav", "//footer", "//*[@role='navigation']"]
_NOTHING_FOUND = "no article text found; is this a saved article page?"


@dataclass(frozen=True)
class HtmlPage:
    title: str  # "" when the page has neither a headline nor a <title>
    text: str  # paragraphs separated by blank lines
    url: str = ""  # the page's canonical address, when it names one
    author: str = ""
    published: datetime | None = None  # timezone-aware UTC
    labels: tuple[str, ...] = ()  # the page's own categories and tags, not yet mapped


def parse_html_page(markup: str, location: str) -> HtmlPage:
    """The main article of a saved page; SourceError when it has no article text."""
    # a parsed tree, never a string: htmldate downloads any string that looks like a URL
    tree = load_html(markup)
    if tree is None:
        raise SourceError(location, _NOTHING_FOUND)
    title_tag = plain_line(tree.findtext(".//title") or "")
    document = _extract(tree)
    if document is None or not document.text:
        raise SourceError(location, _NOTHING_FOUND)
    title = plain_line(document.title or "") or title_tag
    text = _paragraphs(document.text, title)
    if not text:
        raise SourceError(location, _NOTHING_FOUND)
    return HtmlPage(
        title=title,
        text=text,
        url=_web_address(document.url),
        author=plain_line(document.author or ""),
        published=_page_date(document.date),
        labels=tuple(dict.fromkeys([*(document.categories or []), *(document.tags or [])])),
    )


def _extract(tree: Any) -> Document | None:
    document = trafilatura.bare_extraction(
        tree,
        include_comments=False,
        with_metadata=True,
        date_extraction_params=_DATE_OPTIONS,
        prune_xpath=_NEVER_ARTICLE,
    )
    return document if isinstance(document, Document) else None


def _paragraphs(text: str, title: str) -> str:
    """One paragraph per extracted line, without the headline repeated at the top."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    paragraphs = [line for line in lines if line]
    if paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs)


def _web_address(url: str | None) -> str:
    return url if url and url.startswith(("http://", "https://")) else ""


def _page_date(value: str | None) -> datetime | None:
    """The date the page's metadata gives, in UTC; a date without an offset is UTC."""
    return utc_from_iso(value or "")
