"""Article HTML made safe (nh3) and turned into clean paragraphs of text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "em", "figcaption", "figure",
    "h2", "h3", "h4", "i", "img", "li", "ol", "p", "pre", "q", "small", "strong", "sub",
    "sup", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
URL_SCHEMES = {"http", "https", "mailto"}
_BLOCK_TAGS = {
    "p", "div", "br", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
    "figure", "figcaption", "pre", "section", "article", "tr", "ul", "ol",
}  # fmt: skip
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")


def sanitise_html(markup: str) -> str:
    """Keep text formatting and http(s) links; drop scripts, styles, handlers and bad URLs."""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"}:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Paragraphs of plain text, separated by blank lines, whitespace collapsed."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return normalise_paragraphs("".join(collector.parts))


def normalise_paragraphs(text: str) -> str:
    paragraphs = (_SPACE.sub(" ", block.replace("\n", " ")).strip() for block in text.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def plain_line(markup: str) -> str:
    """One line of text from a title that may carry tags or entities."""
    return _SPACE.sub(" ", html_to_text(markup).replace("\n", " ")).strip()
