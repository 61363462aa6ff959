"""Read every configured source, normalise the articles and store them."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from digest.config import Settings
from digest.errors import SourceError
from digest.models import Article
from digest.sourcelist import SourceConfig, SourceList
from digest.sources.fetch import FetchPolicy, HostGate, Sleep
from digest.sources.reader import ReadContext, SourceRead, read_source
from digest.store import SaveCounts, SourceState, Store
from digest.topics import TopicAssigner, TopicProfile

_TRACKING_KEYS = {"fbclid", "gclid", "mc_cid", "mc_eid", "igshid", "ref_src", "yclid", "_hsenc"}
Progress = Callable[[SourceRead], None]


@dataclass(frozen=True)
class CollectReport:
    reads: tuple[SourceRead, ...]
    saved: SaveCounts
    pruned: int = 0

    @property
    def errors(self) -> tuple[SourceError, ...]:
        return tuple(error for read in self.reads for error in read.result.errors)

    @property
    def total_articles(self) -> int:
        return sum(len(read.result.articles) for read in self.reads)

    @property
    def unchanged_files(self) -> int:
        return sum(read.result.unchanged_files for read in self.reads)

    @property
    def new_articles(self) -> int:
        return self.saved.new

    def count(self, status: str) -> int:
        return sum(read.status == status for read in self.reads)


def collect(
    source_list: SourceList,
    store: Store,
    settings: Settings,
    now: datetime,
    client: httpx.Client | None = None,
    sleep: Sleep = time.sleep,
    progress: Progress | None = None,
) -> CollectReport:
    """Read all sources (feeds concurrently); one failing source never stops the others."""
    http = client or httpx.Client(timeout=settings.feed_timeout, follow_redirects=False)
    try:
        reads = _read_all(source_list, store, settings, now, http, sleep, progress)
    finally:
        if client is None:
            http.close()
    cutoff = now - timedelta(days=settings.retention_days) if settings.retention_days else None
    articles = [
        _normalised(article, read, source_list, settings)
        for read in reads
        for article in read.result.articles
        if cutoff is None or article.published >= cutoff  # too old to keep: never stored
    ]
    saved = store.save_articles(place_untagged(articles, source_list, store), now)
    for read in reads:
        store.save_source_state(read.state)
        store.save_file_stamps(read.result.stamps)  # only once the articles are stored
    pruned = store.prune_articles(cutoff) if cutoff else 0
    store.mark_collected(now)
    return CollectReport(tuple(reads), saved, pruned)


def _read_all(
    source_list: SourceList, store: Store, settings: Settings, now: datetime,
    client: httpx.Client, sleep: Sleep, progress: Progress | None,
) -> list[SourceRead]:  # fmt: skip
    ctx = ReadContext(
        client=client,
        gate=HostGate(settings.feed_host_delay, sleep),
        policy=FetchPolicy(max_bytes=settings.feed_max_bytes, retries=settings.feed_retries),
        map_topics=source_list.topics_for_labels,
        now=now,
        file_stamps=store.file_stamps(),
    )
    states = store.all_source_states()

    def read(source: SourceConfig) -> SourceRead:
        done = read_source(source, states.get(source.location) or _new_state(source), ctx)
        if progress is not None:
            progress(done)
        return done

    with ThreadPoolExecutor(max_workers=settings.feed_concurrency) as pool:
        return list(pool.map(read, source_list.sources))


def _new_state(source: SourceConfig) -> SourceState:
    return SourceState(location=source.location, name=source.name)


def _normalised(
    article: Article, read: SourceRead, source_list: SourceList, settings: Settings
) -> Article:
    """Fill in what every stored article needs: a web address, canonical URL, all topics."""
    url = article.url or f"{settings.base_url.rstrip('/')}/articles/{article.id}"
    first_paragraph = article.text.split("\n\n", 1)[0]
    keyword_topics = source_list.topics_for_text(
        f"{article.title}\n{article.standfirst}\n{first_paragraph}"
    )
    return replace(
        article,
        url=url,
        canonical_url=canonical_url(url),
        topics=tuple(dict.fromkeys((*article.topics, *keyword_topics))),
        source_key=read.state.location,
    )


TRAINING_ARTICLES = 3000  # the most recent tagged articles teach the topic assigner


def place_untagged(articles: list[Article], source_list: SourceList, store: Store) -> list[Article]:
    """Give each article that names no topic, from a source that gives none, the likeliest."""
    if all(article.topics for article in articles):
        return articles
    tagged = [a for a in (*articles, *store.latest_articles(TRAINING_ARTICLES)) if a.topics]
    profiles = [TopicProfile(t.name, f"{t.label}. {t.description}") for t in source_list.topics]
    assigner = TopicAssigner.train(profiles, ((_topic_text(a), a.topics[0]) for a in tagged))
    placed = []
    for article in articles:
        topic = None if article.topics else assigner.assign(_topic_text(article))
        placed.append(replace(article, topics=(topic,)) if topic else article)
    return placed


def _topic_text(article: Article) -> str:
    return f"{article.title}\n\n{article.standfirst}\n\n{article.text}"


def canonical_url(url: str) -> str:
    """The URL without tracking parameters or fragment, scheme and host in lower case."""
    if not url:
        return ""
    parts = urlsplit(url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING_KEYS
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )
