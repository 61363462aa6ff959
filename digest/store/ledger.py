"""The send ledger: one row per (subscriber, edition), the truth about what was sent."""

from __future__ import annotations

from datetime import datetime

from digest.models import SendRecord, SendState
from digest.store.database import Database

_COLUMNS = "subscriber, edition, message_id, state, message, covered_until, attempts, last_error"


class SendLedger(Database):
    def send_record(self, subscriber: str, edition: str) -> SendRecord | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM sends WHERE subscriber = ? AND edition = ?",
            (subscriber.lower(), edition),
        ).fetchone()
        return _send_record(row) if row else None

    def queue_send(self, record: SendRecord, now: datetime) -> None:
        """Record a composed message before it goes anywhere (fails if one exists)."""
        self.db.execute(
            f"INSERT INTO sends ({_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            f"SELECT {_COLUMNS} FROM sends WHERE state IN (?, ?, ?) ORDER BY updated_at",
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


def _send_record(row: tuple[object, ...]) -> SendRecord:
    subscriber, edition, message_id, state, message, covered_until, attempts, error = row
    return SendRecord(
        subscriber=str(subscriber), edition=str(edition), message_id=str(message_id),
        state=SendState(str(state)), message=message if isinstance(message, bytes) else b"",
        covered_until=datetime.fromisoformat(str(covered_until)), attempts=int(str(attempts)),
        last_error=str(error),
    )  # fmt: skip
