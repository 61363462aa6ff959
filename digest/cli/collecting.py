"""Commands about sources and articles: collect, sources, articles."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from digest.cli.exits import EXIT_OK, EXIT_PARTIAL
from digest.collect import CollectReport, collect
from digest.collect import Progress as ProgressCallback
from digest.errors import ConfigError
from digest.models import Article
from digest.runtime import Runtime
from digest.sourcelist import SourceConfig, SourceList
from digest.summarise import summarise


def collect_command(runtime: Runtime, path: Path | None, topics: list[str]) -> int:
    """Collect the configured sources, or only `path` (a folder or a feed file)."""
    source_list = runtime.sources if path is None else _one_off(runtime.sources, path, topics)
    with _progress_bar(len(source_list.sources)) as advance:
        report = collect(
            source_list, runtime.store, runtime.settings, runtime.clock(), progress=advance
        )
    print_collect_report(report)
    return EXIT_PARTIAL if report.errors else EXIT_OK


def _one_off(configured: SourceList, path: Path, topics: list[str]) -> SourceList:
    if not path.exists():
        raise ConfigError(path, None, "no such file or folder; give a folder or a feed file.")
    unknown = [t for t in topics if t not in configured.topic_names]
    if unknown:
        raise ConfigError(path, None, f"unknown topic `{unknown[0]}`; see the sources file.")
    kind = "folder" if path.is_dir() else "feed"
    source = SourceConfig(path.name, kind, str(path.resolve()), tuple(topics))
    return replace(configured, sources=(source,))


@contextmanager
def _progress_bar(total: int) -> Iterator[ProgressCallback | None]:
    """A progress bar on a terminal; nothing when output goes to a file or a pipe."""
    if not sys.stdout.isatty():
        yield None
        return
    columns = (
        TextColumn("collecting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("", total=total)
        yield lambda read: bar.update(task, advance=1, description=read.result.source)


def print_collect_report(report: CollectReport) -> None:
    """One line per source that failed or had problems, then the totals."""
    for read in report.reads:
        label = {"failed": "FAILED", "retired": "RETIRED"}.get(read.status, "PROBLEM")
        for error in read.result.errors:
            print(f"{label} {read.result.source}: {error}")
    saved = report.saved
    print(
        f"Sources: {len(report.reads)} ({report.count('read')} read, "
        f"{report.count('unchanged')} unchanged, {report.count('failed')} failed, "
        f"{report.count('retired')} retired). Articles: {saved.new} new, {saved.updated} updated, "
        f"{saved.unchanged + report.unchanged_files} unchanged, {report.pruned} pruned."
    )


def sources_command(runtime: Runtime) -> int:
    """Each configured source's health: where it is, last success, last error, articles."""
    states = runtime.store.all_source_states()
    counts = runtime.store.article_counts_by_source()
    for source in runtime.sources.sources:
        state = states.get(source.location)
        print(f"{source.name} ({source.kind}) {source.location}")
        if state is None:
            print("  never collected")
            continue
        if state.fetch_url:
            print(f"  moved permanently to {state.fetch_url}")
        health = "retired (410 Gone)" if state.retired else f"{state.failures} failures in a row"
        print(f"  last success: {state.last_success or 'never'}; {health}")
        if state.last_error:
            print(f"  last error ({state.last_error_at}): {state.last_error}")
        print(f"  articles stored: {counts.get(source.location, 0)}")
    return EXIT_OK


def articles_command(runtime: Runtime, since: str | None, topic: str | None) -> int:
    """Stored articles as a JSON list, for users' own scripts."""
    start = parse_since(since) if since else None
    articles = runtime.store.articles_published_since(start, topic or "")
    settings = runtime.settings
    rows = [
        _article_json(a, settings.summary_sentences, settings.summary_max_chars) for a in articles
    ]
    json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return EXIT_OK


def parse_since(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            "--since", None, f"`{value}` is not an ISO date such as 2026-11-20."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _article_json(article: Article, sentences: int, max_chars: int) -> dict[str, Any]:
    return {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "standfirst": article.standfirst,
        "summary": summarise(article, sentences, max_chars),
        "text": article.text,
        "published": article.published.isoformat(),
        "first_seen": article.first_seen.isoformat() if article.first_seen else None,
        "source": article.source,
        "author": article.author,
        "topics": list(article.topics),
        "related_headlines": list(article.related_headlines),
        "duplicate_of": article.duplicate_of or None,
    }
