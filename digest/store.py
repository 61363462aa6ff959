"""SQLite storage: collected articles, a secret for signed links, and the send ledger."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from digest.models import Article, SendRecord, SendState

MIGRATIONS = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE articles (
        id TEXT PRIMARY KEY, guid TEXT NOT NULL, canonical_url TEXT NOT NULL,
        url TEXT NOT NULL, title TEXT NOT NULL, standfirst TEXT NOT NULL, text TEXT NOT NULL,
        html TEXT NOT NULL, source TEXT NOT NULL, author TEXT NOT NULL, topics TEXT NOT NULL,
        related TEXT NOT NULL, footnotes TEXT NOT NULL, published TEXT NOT NULL,
        first_seen TEXT NOT NULL
    );
    CREATE INDEX articles_first_seen ON articles (first_seen);
    CREATE INDEX articles_canonical_url ON articles (canonical_url);
    CREATE TABLE sends (
        subscriber TEXT NOT NULL, edition TEXT NOT NULL, message_id TEXT NOT NULL,
        state TEXT NOT NULL, message BLOB NOT NULL, covered_until TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (subscriber, edition)
    );
    """,
)
_ARTICLE_COLUMNS = (
    "id, guid, url, title, standfirst, text, html, source, author, topics, related, "
    "footnotes, published, first_seen"
)
_SEND_COLUMNS = (
    "subscriber, edition, message_id, state, message, covered_until, attempts, last_error"
)


class Store:
    """One SQLite database file, in WAL mode, migrated to the newest schema on open."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # one thread at a time: the scheduler runs its jobs on a single worker thread
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a recorded send survives power loss
        self._migrate()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.transaction():
                for statement in filter(str.strip, script.split(";")):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    def secret(self) -> str:
        """A random secret made once per database, for signing links when none is configured."""
        with self.transaction():
            row = self.db.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
            if row:
                return str(row[0])
            value = secrets.token_hex(32)
            self.db.execute("INSERT INTO meta (key, value) VALUES ('secret', ?)", (value,))
            return value

    # Articles

    def save_articles(self, articles: Iterable[tuple[Article, str]], now: datetime) -> int:
        """Insert or update (article, canonical URL) pairs; return how many were new.

        An article already stored under the same id or canonical URL is updated in place
        and keeps the time it was first seen.
        """
        new = 0
        with self.transaction():
            for article, canonical in articles:
                existing = self._existing_id(article.id, canonical)
                self._write_article(article, canonical, existing or article.id, now, existing)
                new += existing is None
        return new

    def _existing_id(self, article_id: str, canonical: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM articles WHERE id = ? OR (canonical_url = ? AND ? != '') LIMIT 1",
            (article_id, canonical, canonical),
        ).fetchone()
        return str(row[0]) if row else None

    def _write_article(
        self, a: Article, canonical: str, row_id: str, now: datetime, existing: str | None
    ) -> None:
        values = (
            a.guid, canonical, a.url, a.title, a.standfirst, a.text, a.html, a.source, a.author,
            json.dumps(a.topics), json.dumps(a.related_headlines), json.dumps(a.footnotes),
            a.published.isoformat(),
        )  # fmt: skip
        if existing:
            self.db.execute(
                "UPDATE articles SET guid=?, canonical_url=?, url=?, title=?, standfirst=?, "
                "text=?, html=?, source=?, author=?, topics=?, related=?, footnotes=?, "
                "published=? WHERE id=?",
                (*values, row_id),
            )
        else:
            self.db.execute(
                "INSERT INTO articles (guid, canonical_url, url, title, standfirst, text, html, "
                "source, author, topics, related, footnotes, published, id, first_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, row_id, now.isoformat()),
            )

    def articles_seen_after(self, since: datetime | None) -> list[Article]:
        """Articles first seen after `since` (all when None), oldest first."""
        query = f"SELECT {_ARTICLE_COLUMNS} FROM articles"
        params: tuple[str, ...] = ()
        if since is not None:
            query += " WHERE first_seen > ?"
            params = (since.isoformat(),)
        rows = self.db.execute(query + " ORDER BY first_seen, id", params).fetchall()
        return [_article(row) for row in rows]

    def articles_titled(self, titles: Iterable[str]) -> list[Article]:
        """Articles whose headline equals one of `titles`, ignoring case."""
        wanted = sorted({t.casefold() for t in titles})
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = self.db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE lower(title) IN ({marks})", wanted
        ).fetchall()
        return [_article(row) for row in rows]

    # Send ledger

    def send_record(self, subscriber: str, edition: str) -> SendRecord | None:
        row = self.db.execute(
            f"SELECT {_SEND_COLUMNS} FROM sends WHERE subscriber = ? AND edition = ?",
            (subscriber.lower(), edition),
        ).fetchone()
        return _send_record(row) if row else None

    def queue_send(self, record: SendRecord, now: datetime) -> None:
        """Record a composed message before it goes anywhere (fails if one exists)."""
        self.db.execute(
            f"INSERT INTO sends ({_SEND_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.subscriber.lower(), record.edition, record.message_id, record.state.value,
                record.message, record.covered_until.isoformat(), record.attempts,
                record.last_error, now.isoformat(),
            ),
        )  # fmt: skip

    def mark_send(
        self, subscriber: str, edition: str, state: SendState, now: datetime, error: str = ""
    ) -> None:
        attempt = 1 if state is SendState.SENDING else 0
        self.db.execute(
            "UPDATE sends SET state = ?, last_error = ?, attempts = attempts + ?, updated_at = ? "
            "WHERE subscriber = ? AND edition = ?",
            (state.value, error, attempt, now.isoformat(), subscriber.lower(), edition),
        )

    def unfinished_sends(self) -> list[SendRecord]:
        """Queued, in-flight and deferred sends: what a crash or a hiccup left undelivered."""
        rows = self.db.execute(
            f"SELECT {_SEND_COLUMNS} FROM sends WHERE state IN (?, ?, ?) ORDER BY updated_at",
            (SendState.QUEUED.value, SendState.SENDING.value, SendState.DEFERRED.value),
        ).fetchall()
        return [_send_record(row) for row in rows]

    def last_covered_until(self, subscriber: str) -> datetime | None:
        """The end of the window covered by the subscriber's newest recorded digest."""
        row = self.db.execute(
            "SELECT max(covered_until) FROM sends WHERE subscriber = ? AND state != ?",
            (subscriber.lower(), SendState.FAILED.value),
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def ledger_totals(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, count(*) FROM sends GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}


def _article(row: tuple[object, ...]) -> Article:
    (id_, guid, url, title, standfirst, text, html, source, author, topics, related,
     footnotes, published, first_seen) = row  # fmt: skip
    return Article(
        id=str(id_), guid=str(guid), url=str(url), title=str(title), standfirst=str(standfirst),
        text=str(text), html=str(html), source=str(source), author=str(author),
        topics=tuple(json.loads(str(topics))), related_headlines=tuple(json.loads(str(related))),
        footnotes=tuple(json.loads(str(footnotes))),
        published=datetime.fromisoformat(str(published)),
        first_seen=datetime.fromisoformat(str(first_seen)),
    )  # fmt: skip


def _send_record(row: tuple[object, ...]) -> SendRecord:
    subscriber, edition, message_id, state, message, covered_until, attempts, error = row
    return SendRecord(
        subscriber=str(subscriber), edition=str(edition), message_id=str(message_id),
        state=SendState(str(state)), message=message if isinstance(message, bytes) else b"",
        covered_until=datetime.fromisoformat(str(covered_until)), attempts=int(str(attempts)),
        last_error=str(error),
    )  # fmt: skip
