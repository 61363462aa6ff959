"""Read every configured source, normalise the articles and store them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from digest.config import Settings
from digest.errors import SourceError
from digest.models import Article
from digest.sourcelist import SourceConfig, SourceList
from digest.sources.feeds import read_feed
from digest.sources.folder import read_folder
from digest.sources.result import SourceResult
from digest.store import Store

_TRACKING_KEYS = {"fbclid", "gclid", "mc_cid", "mc_eid", "igshid", "ref_src"}


@dataclass(frozen=True)
class CollectReport:
    results: tuple[SourceResult, ...]
    new_articles: int

    @property
    def errors(self) -> tuple[SourceError, ...]:
        return tuple(error for result in self.results for error in result.errors)

    @property
    def total_articles(self) -> int:
        return sum(len(result.articles) for result in self.results)


def collect(
    source_list: SourceList,
    store: Store,
    settings: Settings,
    now: datetime,
    client: httpx.Client | None = None,
) -> CollectReport:
    """Read all sources; one failing source is reported and never stops the others."""
    own_client = client is None
    http = client or httpx.Client(timeout=settings.feed_timeout, follow_redirects=False)
    try:
        results = tuple(
            _read(source, source_list, http, settings, now) for source in source_list.sources
        )
    finally:
        if own_client:
            http.close()
    articles = [_with_url(a, settings.base_url) for r in results for a in r.articles]
    new = store.save_articles(((a, canonical_url(a.url)) for a in articles), now)
    return CollectReport(results, new)


def _read(
    source: SourceConfig, source_list: SourceList, client: httpx.Client, settings: Settings,
    now: datetime,
) -> SourceResult:  # fmt: skip
    if source.kind == "folder":
        return read_folder(source, source_list.topics_for_labels)
    return read_feed(source, source_list.topics_for_labels, client, now, settings.feed_max_bytes)


def _with_url(article: Article, base_url: str) -> Article:
    """Articles without a web address link to their page in the web archive."""
    if article.url:
        return article
    return replace(article, url=f"{base_url.rstrip('/')}/articles/{article.id}")


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
