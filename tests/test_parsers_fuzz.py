"""Whatever bytes a local file or feed holds, a parser either reads it or raises SourceError
naming it: never another exception, which would stop the whole collect run."""

import tempfile
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.errors import SourceError
from digest.models import Article
from digest.sourcelist import SourceConfig
from digest.sources.articletext import parse_article_text
from digest.sources.encoding import decode_bytes
from digest.sources.feeds import parse_feed
from digest.sources.folder import READERS, read_folder
from digest.sources.htmlpage import parse_html_page
from digest.sources.jsonfeed import looks_like_json, parse_json_feed
from digest.sources.markdownfile import parse_markdown_article

from .conftest import FIXTURES, NOW

LOCATION = "fuzz/input.file"
FEED = SourceConfig(name="fuzz", kind="feed", location=LOCATION)
SEEDS = sorted(
    [*(FIXTURES / "formats").iterdir(), *(FIXTURES / "feeds").iterdir()], key=lambda p: p.name
)
# characters that mean something to one of the formats, so examples reach past the first check
SYNTAX = "-#:[]{}<>/&;=\"'\n\r\t *_`!.,0123456789TZ+\\\x00\ufeff\u2028é港"
FAST = settings(max_examples=150, deadline=None)


def map_topics(labels: tuple[str, ...]) -> tuple[str, ...]:
    return ("coast",) if "coast" in labels else ()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[Path] = SEEDS) -> bytes:
    """One of our fixture files with a random stretch replaced by random bytes."""
    data = draw(st.sampled_from(seeds)).read_bytes()
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 40)))
    return data[:start] + draw(st.binary(max_size=40)) + data[end:]


def raw_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=400), mutated())


def syntax_text() -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=300), st.text(SYNTAX, max_size=300))


def only_source_errors(parse: Callable[[], Any], location: str = LOCATION) -> Any:
    """The parse result, or None when it raised a SourceError that names the input."""
    try:
        return parse()
    except SourceError as error:
        assert error.location == location
        assert str(error).startswith(location)
        return None


def check_articles(articles: list[Article] | None) -> None:
    for article in articles or []:
        assert article.published.tzinfo is not None
        assert article.published.utcoffset() == UTC.utcoffset(None)
        assert article.id and article.title
        assert "<script" not in article.html.lower()


@FAST
@given(st.one_of(raw_bytes(), st.text(max_size=200).map(str.encode)))
def test_decode_bytes_always_gives_text(data: bytes) -> None:
    assert isinstance(decode_bytes(data), str)
    assert isinstance(looks_like_json(data), bool)


@FAST
@given(st.one_of(syntax_text(), raw_bytes().map(decode_bytes)))
def test_text_article_parser(text: str) -> None:
    only_source_errors(lambda: parse_article_text(text, LOCATION))


@st.composite
def markdown_documents(draw: st.DrawFn) -> str:
    """Front matter of YAML-ish lines (sometimes with a real key) and a Markdown body."""
    keys = st.sampled_from(["title", "date", "url", "topics", "source", "author", "summary"])
    lines = draw(st.lists(st.tuples(keys, syntax_text().map(str.strip)), max_size=5))
    front = "".join(f"{key}: {value}\n" for key, value in lines)
    return f"---\n{front}---\n{draw(syntax_text())}"


@FAST
@given(st.one_of(syntax_text(), markdown_documents(), raw_bytes().map(decode_bytes)))
def test_markdown_parser(text: str) -> None:
    article = only_source_errors(lambda: parse_markdown_article(text, LOCATION))
    if article is not None:
        assert article.published is None or article.published.tzinfo is UTC
        assert "<script" not in article.html


@FAST
@given(st.one_of(syntax_text(), raw_bytes().map(decode_bytes)))
def test_html_page_parser(text: str) -> None:
    page = only_source_errors(lambda: parse_html_page(text, LOCATION))
    if page is not None:
        assert page.text


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(SYNTAX, max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
ITEM_KEYS = [
    "id", "url", "external_url", "title", "content_html", "content_text", "summary",
    "date_published", "date_modified", "author", "authors", "tags",
]  # fmt: skip


@st.composite
def json_feeds(draw: st.DrawFn) -> dict[str, Any]:
    """A JSON Feed whose fields hold any JSON value, as a careless publisher might write."""
    item = st.dictionaries(st.sampled_from(ITEM_KEYS), JSON_VALUES, max_size=6)
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": draw(st.lists(item | JSON_VALUES, max_size=4)),
    }
    for key in ("title", "home_page_url", "feed_url", "author", "authors"):
        if draw(st.booleans()):
            feed[key] = draw(JSON_VALUES)
    return feed


@FAST
@given(st.one_of(raw_bytes(), json_feeds().map(lambda feed: repr(feed).encode())))
def test_json_feed_parser_with_any_bytes(data: bytes) -> None:
    check_articles(only_source_errors(lambda: parse_json_feed(data, FEED, map_topics, NOW)))


@FAST
@given(json_feeds())
def test_json_feed_parser_with_any_field_values(feed: dict[str, Any]) -> None:
    import json

    data = json.dumps(feed).encode()
    check_articles(only_source_errors(lambda: parse_json_feed(data, FEED, map_topics, NOW)))


@FAST
@given(raw_bytes())
def test_rss_and_atom_parser(data: bytes) -> None:
    check_articles(only_source_errors(lambda: parse_feed(data, FEED, map_topics, NOW)))


@FAST
@given(st.sampled_from(sorted(READERS)), raw_bytes())
def test_any_file_in_a_folder_is_read_or_reported(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"article{suffix}"
        path.write_bytes(data)
        source = SourceConfig(name="fuzz", kind="folder", location=folder, topics=("coast",))

        result = read_folder(source, map_topics)

    assert len(result.articles) + len(result.errors) == 1
    for error in result.errors:
        assert error.location == str(path)
    check_articles(result.articles)
