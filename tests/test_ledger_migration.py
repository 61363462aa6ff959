"""A ledger written before message bytes moved to their own table still delivers them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from digest.models import SendState
from digest.store import Store
from digest.store.schema import MIGRATIONS

from .conftest import NOW


def test_queued_messages_of_an_older_ledger_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        old.executescript(script)
    old.execute(f"PRAGMA user_version = {4}")
    old.execute(
        "INSERT INTO sends (subscriber, edition, message_id, state, message, covered_until, "
        "updated_at) VALUES ('a@example.com', '2026-11-26', '<id@x>', 'queued', ?, ?, ?)",
        (b"Subject: hello\r\n\r\nbody\r\n", NOW.isoformat(), NOW.isoformat()),
    )
    old.commit()
    old.close()

    store = Store(path)
    (record,) = store.sends_in(SendState.QUEUED)

    assert store.schema_version == len(MIGRATIONS)
    assert store.message_of(record) == b"Subject: hello\r\n\r\nbody\r\n"
    assert store.start_sending(record, NOW) == b"Subject: hello\r\n\r\nbody\r\n"


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    code = f"from pathlib import Path; from digest.store import Store; Store(Path({str(path)!r}))"
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)
    ]

    errors = [p.communicate(timeout=60)[1].decode() for p in processes]

    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    assert Store(path).schema_version == len(MIGRATIONS)
