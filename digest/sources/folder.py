"""Read a local folder of article text files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from digest.errors import SourceError
from digest.models import Article
from digest.sourcelist import SourceConfig
from digest.sources.articletext import parse_article_text
from digest.sources.result import SourceResult, TopicMapper, article_id

ARTICLE_SUFFIXES = {".txt", ".text"}


def read_folder(source: SourceConfig, map_topics: TopicMapper) -> SourceResult:
    """Every article file in the folder; a bad file is reported and the others still read."""
    result = SourceResult(source.name)
    folder = Path(source.location)
    if not folder.is_dir():
        message = "folder not found; create it or fix `folder:` in the sources file."
        result.errors.append(SourceError(str(folder), message))
        return result
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES):
        try:
            result.articles.append(read_article_file(path, source, map_topics))
        except SourceError as error:
            result.errors.append(error)
    return result


def read_article_file(path: Path, source: SourceConfig, map_topics: TopicMapper) -> Article:
    parsed = parse_article_text(decode_text(path), str(path))
    guid = f"file:{source.name}/{path.name}"
    labels = (parsed.topic_label,) if parsed.topic_label else ()
    url = source.link.format(stem=path.stem) if source.link else ""
    topics = map_topics(labels) or source.topics
    if not topics:
        message = (
            f"topic line `{parsed.topic_label}` matches no topic; add it to a topic's `aliases`"
            " or give the folder `topics:` in the sources file."
        )
        raise SourceError(str(path), message, 1)
    return Article(
        guid=guid,
        url=url,
        title=parsed.headline,
        text="\n\n".join(parsed.paragraphs),
        source=parsed.outlet or source.name,
        published=datetime.fromtimestamp(path.stat().st_mtime, tz=UTC),
        topics=topics,
        standfirst=parsed.standfirst,
        related_headlines=parsed.related_headlines,
        footnotes=parsed.footnotes,
        id=article_id(guid),
    )


def decode_text(path: Path) -> str:
    """UTF-8 (with or without BOM), else the common legacy Windows encoding."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(path), f"cannot read the file ({exc.strerror}).") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
