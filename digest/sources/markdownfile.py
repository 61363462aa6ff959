"""Markdown articles, with optional YAML front matter between `---` lines.

Front matter keys: title, date, url, topics (a list, or a string of comma-separated
labels), source, author, summary (or standfirst). Other keys are ignored, so files
written for a static-site generator read as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from digest.errors import SourceError
from digest.htmltext import html_to_text, plain_line, sanitise_html
from digest.sources.dates import utc_from_iso

_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_OPENING = re.compile(r"---[ \t]*")
_CLOSING = re.compile(r"(---|\.\.\.)[ \t]*")
_TOP_LEVEL_KEY = re.compile(r"([^\s#:][^:]*?)[ \t]*:")


@dataclass(frozen=True)
class MarkdownArticle:
    title: str  # "" when neither the front matter nor a level-one heading names it
    text: str
    html: str  # sanitised
    labels: tuple[str, ...] = ()  # the front matter's topics, not yet mapped
    published: datetime | None = None  # timezone-aware UTC
    url: str = ""
    outlet: str = ""
    author: str = ""
    standfirst: str = ""


@dataclass(frozen=True)
class FrontMatter:
    """A Markdown file split in two: its front matter fields and the body below them."""

    fields: dict[Any, Any]
    key_lines: dict[str, int]  # 1-based line in the file of each top-level key
    body: str
    body_line: int  # the file line the Markdown body starts on

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


class _FrontMatterLoader(yaml.SafeLoader):
    """The safe loader, keeping dates as text: a bad date then gets our message and line."""


def _timestamp_as_text(loader: _FrontMatterLoader, node: yaml.Node) -> str:
    return str(node.value)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def parse_markdown_article(text: str, location: str) -> MarkdownArticle:
    """Front matter and rendered body of a Markdown file; SourceError names the bad line."""
    front = split_front_matter(text, location)
    title, html = _title_and_body(front, location)
    return MarkdownArticle(
        title=title,
        text=html_to_text(html),
        html=html,
        labels=_labels(front, location),
        published=_published(front, location),
        url=_url(front, location),
        outlet=_text_field(front, "source", location),
        author=_text_field(front, "author", location),
        standfirst=_text_field(front, "summary", location)
        or _text_field(front, "standfirst", location),
    )


def split_front_matter(text: str, location: str) -> FrontMatter:
    """The YAML mapping between the opening and closing `---` lines, and the body after."""
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not _OPENING.fullmatch(lines[0]):
        return FrontMatter({}, {}, "\n".join(lines), 1)
    end = next((n for n in range(1, len(lines)) if _CLOSING.fullmatch(lines[n])), None)
    if end is None:
        message = "the front matter opened on this line is never closed; end it with `---`."
        raise SourceError(location, message, 1)
    yaml_lines = lines[1:end]
    fields = _load_front_matter("\n".join(yaml_lines), location)
    key_lines: dict[str, int] = {}
    for number, line in enumerate(yaml_lines, start=2):
        match = _TOP_LEVEL_KEY.match(line)
        if match:
            key_lines.setdefault(match.group(1).strip("'\""), number)
    return FrontMatter(fields, key_lines, "\n".join(lines[end + 1 :]), end + 2)


def _load_front_matter(source: str, location: str) -> dict[Any, Any]:
    try:
        fields = yaml.load(source, Loader=_FrontMatterLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark else 1
        problem = exc.problem or "unreadable YAML"
        raise SourceError(location, f"invalid front matter: {problem}.", line) from exc
    except yaml.reader.ReaderError as exc:
        line = source[: exc.position].count("\n") + 2
        message = "invalid front matter: a control character YAML does not allow."
        raise SourceError(location, message, line) from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise SourceError(location, f"invalid front matter ({exc}).", 1) from exc
    if fields is None:
        return {}
    if not isinstance(fields, dict):
        message = "front matter must be `key: value` lines (a YAML mapping)."
        raise SourceError(location, message, 2)
    return fields


def _title_and_body(front: FrontMatter, location: str) -> tuple[str, str]:
    """The title, and the body as sanitised HTML."""
    title = _text_field(front, "title", location)
    tokens = _MARKDOWN.parse(front.body)
    heading, without_heading = _level_one_heading(tokens)
    # the heading names the article, unless the front matter gave it another title
    if not title or heading == title:
        title, tokens = title or heading, without_heading
    html = sanitise_html(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {}))
    if not html_to_text(html):
        message = "no article text after the front matter; write paragraphs below it."
        raise SourceError(location, message, front.body_line)
    return title, html


def _level_one_heading(tokens: list[Token]) -> tuple[str, list[Token]]:
    """The first level-one heading's text, and the body tokens without it."""
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            heading = _MARKDOWN.renderer.render([tokens[index + 1]], _MARKDOWN.options, {})
            return plain_line(heading), tokens[:index] + tokens[index + 3 :]
    return "", tokens


def _text_field(front: FrontMatter, key: str, location: str) -> str:
    value = front.fields.get(key)
    if value is None:
        return ""
    if isinstance(value, list | dict | set | bytes):
        message = f"`{key}` must be text, not a list or mapping."
        raise SourceError(location, message, front.line_of(key))
    return " ".join(str(value).split())


def _labels(front: FrontMatter, location: str) -> tuple[str, ...]:
    value = front.fields.get("topics")
    items = value.split(",") if isinstance(value, str) else value
    if items is None:
        return ()
    if not isinstance(items, list) or not all(isinstance(i, str | int | float) for i in items):
        message = "`topics` must be a list of topic names, or one name."
        raise SourceError(location, message, front.line_of("topics"))
    return tuple(label for item in items if (label := " ".join(str(item).split())))


def _published(front: FrontMatter, location: str) -> datetime | None:
    value = front.fields.get("date")
    if value is None:
        return None
    published = utc_from_iso(str(value).strip())  # a bare date is midnight UTC
    if published is None:
        message = (
            f"`date: {value}` is not an ISO 8601 date;"
            " write it like 2026-11-20 or 2026-11-20T08:30:00+01:00."
        )
        raise SourceError(location, message, front.line_of("date"))
    return published


def _url(front: FrontMatter, location: str) -> str:
    url = _text_field(front, "url", location)
    if url and not url.startswith(("http://", "https://")):
        message = f"`url: {url}` must be a full web address starting with https:// or http://."
        raise SourceError(location, message, front.line_of("url"))
    return url
