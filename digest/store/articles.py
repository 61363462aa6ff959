"""Stored articles: insert or update, duplicates by text, queries, pruning."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from digest.models import Article
from digest.store.database import Database

_COLUMNS = (
    "id, guid, url, title, standfirst, text, html, source, author, topics, related, "
    "footnotes, published, first_seen, source_key, canonical_url, duplicate_of"
)
_WORDS = re.compile(r"\w+")
MIN_WORDS_FOR_DUPLICATE = 25  # shorter texts are too alike by chance to call copies


@dataclass(frozen=True)
class SaveCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Loaded:
    """Articles of one `articles_seen_after` query, and the table version they reflect."""

    version: tuple[int, int]
    since: datetime | None
    articles: tuple[Article, ...]

    def covers(self, version: tuple[int, int], since: datetime | None) -> bool:
        later = self.since is None or (since is not None and since >= self.since)
        return version == self.version and later


class ArticleTable(Database):
    _writes = 0  # this connection's changes to the articles table
    _loaded: _Loaded | None = None

    def save_articles(self, articles: Iterable[Article], now: datetime) -> SaveCounts:
        """Insert new articles, update changed ones, leave the rest alone.

        An article already stored under the same guid-derived id or canonical URL is
        updated in place and keeps the time it was first seen. A new article whose text
        matches an earlier one's is stored, marked as its duplicate.
        """
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        self._writes += 1
        with self.transaction():
            for article in articles:
                counts[self._save(article, now)] += 1
        return SaveCounts(**counts)

    def _save(self, article: Article, now: datetime) -> str:
        existing = self._existing(article)
        fingerprint = _fingerprint(article)
        if existing is None:
            self._insert(article, fingerprint, now)
            return "new"
        row_id, old_fingerprint = existing
        if old_fingerprint == fingerprint:
            return "unchanged"
        self._update(article, fingerprint, row_id)
        return "updated"

    def _existing(self, article: Article) -> tuple[str, str] | None:
        row = self.db.execute(
            "SELECT id, fingerprint FROM articles WHERE id = ? "
            "UNION ALL SELECT id, fingerprint FROM articles WHERE canonical_url = ? AND ? != '' "
            "LIMIT 1",
            (article.id, article.canonical_url, article.canonical_url),
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def _insert(self, a: Article, fingerprint: str, now: datetime) -> None:
        text_hash = _text_hash(a.text)
        duplicate_of = self._first_with_text(text_hash) if text_hash else ""
        self.db.execute(
            f"INSERT INTO articles ({_COLUMNS}, fingerprint, text_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_values(a), now.isoformat(), a.source_key, a.canonical_url, duplicate_of,
             fingerprint, text_hash),
        )  # fmt: skip

    def _update(self, a: Article, fingerprint: str, row_id: str) -> None:
        self.db.execute(
            "UPDATE articles SET guid=?, url=?, title=?, standfirst=?, text=?, html=?, "
            "source=?, author=?, topics=?, related=?, footnotes=?, published=?, "
            "source_key=?, canonical_url=?, fingerprint=?, text_hash=? WHERE id=?",
            (*_values(a)[1:], a.source_key, a.canonical_url, fingerprint, _text_hash(a.text),
             row_id),
        )  # fmt: skip

    def _first_with_text(self, text_hash: str) -> str:
        row = self.db.execute(
            "SELECT id FROM articles WHERE text_hash = ? ORDER BY first_seen, id LIMIT 1",
            (text_hash,),
        ).fetchone()
        return str(row[0]) if row else ""

    def articles_seen_after(self, since: datetime | None) -> list[Article]:
        """Articles first seen after `since` (all when None), duplicates left out.

        Every subscriber of a send run asks for nearly the same window: the last answer is
        kept and filtered while no connection has changed the database since.
        """
        version = (self._writes, int(self.db.execute("PRAGMA data_version").fetchone()[0]))
        loaded = self._loaded
        if loaded is None or not loaded.covers(version, since):
            loaded = _Loaded(version, since, tuple(self._load_seen_after(since)))
            self._loaded = loaded
        return [a for a in loaded.articles if since is None or _seen_after(a, since)]

    def _load_seen_after(self, since: datetime | None) -> list[Article]:
        query = f"SELECT {_COLUMNS} FROM articles WHERE duplicate_of = ''"
        params: tuple[str, ...] = ()
        if since is not None:
            query += " AND first_seen > ?"
            params = (since.isoformat(),)
        rows = self.db.execute(query + " ORDER BY first_seen, id", params).fetchall()
        return [_article(row) for row in rows]

    def articles_published_since(self, since: datetime | None, topic: str = "") -> list[Article]:
        """Every stored article (duplicates too) published since `since`, newest first."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE published >= ? ORDER BY published DESC, id",
            ((since.isoformat() if since else ""),),
        ).fetchall()
        articles = [_article(row) for row in rows]
        return [a for a in articles if not topic or topic in a.topics]

    def latest_articles(self, limit: int) -> list[Article]:
        """The `limit` articles first seen most recently, duplicates left out."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE duplicate_of = '' "
            "ORDER BY first_seen DESC, id LIMIT ?",
            (limit,),
        ).fetchall()
        return [_article(row) for row in rows]

    def articles_titled(self, titles: Iterable[str]) -> list[Article]:
        """Articles whose headline equals one of `titles`, ignoring case."""
        wanted = sorted({t.casefold() for t in titles})
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE lower(title) IN ({marks})", wanted
        ).fetchall()
        return [_article(row) for row in rows]

    def article_counts_by_source(self) -> dict[str, int]:
        rows = self.db.execute("SELECT source_key, count(*) FROM articles GROUP BY source_key")
        return {str(key): int(count) for key, count in rows.fetchall()}

    def prune_articles(self, published_before: datetime) -> int:
        self._writes += 1
        """Delete articles published before the cut-off; return how many went."""
        with self.transaction():
            cursor = self.db.execute(
                "DELETE FROM articles WHERE published < ?", (published_before.isoformat(),)
            )
        return int(cursor.rowcount)


def _seen_after(article: Article, since: datetime) -> bool:
    return article.first_seen is not None and article.first_seen > since


def _values(a: Article) -> tuple[str, ...]:
    return (
        a.id, a.guid, a.url, a.title, a.standfirst, a.text, a.html, a.source, a.author,
        json.dumps(a.topics), json.dumps(a.related_headlines), json.dumps(a.footnotes),
        a.published.isoformat(),
    )  # fmt: skip


def _fingerprint(a: Article) -> str:
    return hashlib.sha256("\x1f".join(_values(a)[1:]).encode()).hexdigest()


def _text_hash(text: str) -> str:
    """The same words in the same order give the same hash, whatever the markup or case."""
    words = _WORDS.findall(text.casefold())
    if len(words) < MIN_WORDS_FOR_DUPLICATE:
        return ""
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def _article(row: tuple[object, ...]) -> Article:
    (id_, guid, url, title, standfirst, text, html, source, author, topics, related,
     footnotes, published, first_seen, source_key, canonical_url, duplicate_of) = row  # fmt: skip
    return Article(
        id=str(id_), guid=str(guid), url=str(url), title=str(title), standfirst=str(standfirst),
        text=str(text), html=str(html), source=str(source), author=str(author),
        topics=tuple(json.loads(str(topics))), related_headlines=tuple(json.loads(str(related))),
        footnotes=tuple(json.loads(str(footnotes))),
        published=datetime.fromisoformat(str(published)),
        first_seen=datetime.fromisoformat(str(first_seen)), source_key=str(source_key),
        canonical_url=str(canonical_url), duplicate_of=str(duplicate_of),
    )  # fmt: skip
