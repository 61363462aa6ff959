"""Read a local folder of articles: plain text, Markdown and saved web pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from digest.errors import SourceError
from digest.models import Article
from digest.sourcelist import SourceConfig
from digest.sources.articletext import parse_article_text
from digest.sources.encoding import decode_bytes
from digest.sources.htmlpage import parse_html_page
from digest.sources.markdownfile import parse_markdown_article
from digest.sources.result import SourceResult, TopicMapper, article_id


@dataclass(frozen=True)
class FileArticle:
    """What a reader found in one file, before the folder's settings fill the gaps."""

    title: str  # "" when the file names none: the file name stands in
    text: str
    labels: tuple[str, ...] = ()  # the article's own topic labels, not yet mapped
    published: datetime | None = None  # None: the file's modification time
    url: str = ""
    outlet: str = ""
    standfirst: str = ""
    author: str = ""
    html: str = ""
    related_headlines: tuple[str, ...] = ()
    footnotes: tuple[str, ...] = ()


def read_text_article(text: str, location: str) -> FileArticle:
    """The plain-text layout (`.txt`, `.text`)."""
    parsed = parse_article_text(text, location)
    return FileArticle(
        title=parsed.headline,
        text="\n\n".join(parsed.paragraphs),
        labels=(parsed.topic_label,) if parsed.topic_label else (),
        outlet=parsed.outlet,
        standfirst=parsed.standfirst,
        related_headlines=parsed.related_headlines,
        footnotes=parsed.footnotes,
    )


def read_markdown_article(text: str, location: str) -> FileArticle:
    """Markdown with optional front matter (`.md`, `.markdown`)."""
    parsed = parse_markdown_article(text, location)
    return FileArticle(
        title=parsed.title,
        text=parsed.text,
        labels=parsed.labels,
        published=parsed.published,
        url=parsed.url,
        outlet=parsed.outlet,
        standfirst=parsed.standfirst,
        author=parsed.author,
        html=parsed.html,
    )


def read_html_article(text: str, location: str) -> FileArticle:
    """A saved web page (`.html`, `.htm`): its main text and metadata."""
    page = parse_html_page(text, location)
    return FileArticle(
        title=page.title,
        text=page.text,
        labels=page.labels,
        published=page.published,
        url=page.url,
        author=page.author,
    )


READERS: dict[str, Callable[[str, str], FileArticle]] = {
    ".txt": read_text_article,
    ".text": read_text_article,
    ".md": read_markdown_article,
    ".markdown": read_markdown_article,
    ".html": read_html_article,
    ".htm": read_html_article,
}


def read_folder(
    source: SourceConfig, map_topics: TopicMapper, known: Mapping[str, str] | None = None
) -> SourceResult:
    """Every article file in the folder; a bad file is reported and the others still read.

    A file whose stamp equals the one in `known` is skipped: it was read before as it is.
    """
    result = SourceResult(source.name)
    try:
        paths = article_files(Path(source.location))
    except SourceError as error:
        result.errors.append(error)
        return result
    for path in paths:
        stamp = file_stamp(path, source)
        if known is not None and known.get(str(path)) == stamp:
            result.unchanged_files += 1
            continue
        try:
            result.articles.append(read_article_file(path, source, map_topics))
        except SourceError as error:
            result.errors.append(error)
        else:
            result.stamps[str(path)] = stamp
    return result


def file_stamp(path: Path, source: SourceConfig) -> str:
    """Changes when the file or the folder's settings change (size, time, topics, link)."""
    try:
        status = path.stat()
    except OSError:
        return ""
    return f"{status.st_mtime_ns}:{status.st_size}:{','.join(source.topics)}:{source.link}"


def article_files(folder: Path) -> list[Path]:
    """The files there is a reader for, by name; hidden files and the rest are left alone."""
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        message = "folder not found; create it or fix `folder:` in the sources file."
        if not isinstance(exc, FileNotFoundError | NotADirectoryError):
            message = f"cannot list the folder ({exc.strerror}); check its permissions."
        raise SourceError(str(folder), message) from exc
    return sorted(
        path
        for path in entries
        if path.suffix.lower() in READERS and not path.name.startswith(".") and path.is_file()
    )


def read_article_file(path: Path, source: SourceConfig, map_topics: TopicMapper) -> Article:
    """One file as an Article; SourceError names the file, and the line when known."""
    text, modified = _load(path)
    found = READERS[path.suffix.lower()](text, str(path))
    guid = f"file:{source.name}/{path.name}"
    return Article(
        guid=guid,
        url=found.url or source.link.replace("{stem}", path.stem),
        title=found.title or path.stem,
        text=found.text,
        source=found.outlet or source.name,
        published=found.published or modified,
        # may be empty: the collector then places the article by its text
        topics=map_topics(found.labels) or source.topics,
        standfirst=found.standfirst,
        html=found.html,
        author=found.author,
        related_headlines=found.related_headlines,
        footnotes=found.footnotes,
        id=article_id(guid),
    )


def _load(path: Path) -> tuple[str, datetime]:
    """The file's text, whatever its encoding, and when it was last changed (UTC)."""
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(path), f"cannot read the file ({exc.strerror}).") from exc
    return decode_bytes(data), modified
