"""The SQLite connection: WAL mode, migrations, transactions, a per-database secret."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digest.store.schema import MIGRATIONS


class Database:
    """One SQLite database file, in WAL mode, migrated to the newest schema on open."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # one connection, shared by the threads of a send run: they take turns with `lock`
        self.lock = threading.Lock()
        # one thread at a time: the scheduler runs its jobs on a single worker thread
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._use_wal()
        # WAL with NORMAL: a commit survives the process being killed at any moment; a power
        # cut may undo the last commits (at worst a digest is resent, same Message-ID)
        self.db.execute("PRAGMA synchronous=NORMAL")
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

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _use_wal(self) -> None:
        """WAL mode; another process creating the file at this moment holds it briefly."""
        for attempt in range(100):
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError:
                if attempt == 99:
                    raise
                time.sleep(0.05)

    def _migrate(self) -> None:
        """Bring the schema up to date; under the write lock, so two processes opening a new
        database at once never both run a migration."""
        with self.transaction():
            version = self.schema_version
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
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
