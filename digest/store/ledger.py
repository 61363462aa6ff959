"""The send ledger: one row per (subscriber, edition), the truth about what was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digest.models import SendRecord, SendState
from digest.store.database import Database

# the message bytes live in `send_messages`, so a change of state never rewrites them
_COLUMNS = (
    "subscriber, edition, message_id, state, covered_until, attempts, last_error, next_attempt_at"
)
GAVE_UP = "gave up"  # how a failure after the last retry starts


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did to its row."""

    state: SendState
    error: str = ""
    next_attempt_at: datetime | None = None
    bounce: bool = False  # refused for good by the server (counts towards suppression)


class SendLedger(Database):
    def send_record(self, subscriber: str, edition: str) -> SendRecord | None:
        """One row, without its message bytes (see `message_of`)."""
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM sends WHERE subscriber = ? AND edition = ?",
            (subscriber.lower(), edition),
        ).fetchone()
        return _send_record(row) if row else None

    def message_of(self, record: SendRecord) -> bytes:
        row = self.db.execute(
            "SELECT message FROM send_messages WHERE subscriber = ? AND edition = ?",
            (record.subscriber, record.edition),
        ).fetchone()
        return bytes(row[0]) if row else b""

    def queue_send(self, record: SendRecord, now: datetime) -> None:
        """Record a composed message before it goes anywhere (fails if one exists)."""
        with self.transaction():
            self.db.execute(
                f"INSERT INTO sends ({_COLUMNS}, message, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, '', x'', ?)",
                (
                    record.subscriber.lower(), record.edition, record.message_id,
                    record.state.value, record.covered_until.isoformat(), record.attempts,
                    record.last_error, now.isoformat(),
                ),
            )  # fmt: skip
            self.db.execute(
                "INSERT INTO send_messages (subscriber, edition, message) VALUES (?, ?, ?)",
                (record.subscriber.lower(), record.edition, record.message),
            )

    def start_sending(self, record: SendRecord, now: datetime) -> bytes:
        """Mark the row `sending` and return its message: from here until `record_outcome`
        the send is ambiguous (the server may have it)."""
        self.db.execute(
            "UPDATE sends SET state = ?, attempts = attempts + 1, updated_at = ? "
            "WHERE subscriber = ? AND edition = ?",
            (SendState.SENDING.value, now.isoformat(), record.subscriber, record.edition),
        )
        return self.message_of(record)

    def record_outcome(self, record: SendRecord, outcome: Outcome, now: datetime) -> None:
        sent_at = now.isoformat() if outcome.state is SendState.SENT else ""
        retry_at = outcome.next_attempt_at.isoformat() if outcome.next_attempt_at else ""
        self.db.execute(
            "UPDATE sends SET state = ?, last_error = ?, next_attempt_at = ?, sent_at = ?, "
            "updated_at = ? WHERE subscriber = ? AND edition = ?",
            (outcome.state.value, outcome.error, retry_at, sent_at, now.isoformat(),
             record.subscriber, record.edition),
        )  # fmt: skip

    def sends_in(self, *states: SendState) -> list[SendRecord]:
        """Rows in `states`, oldest change first (without message bytes)."""
        marks = ", ".join("?" for _ in states)
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM sends WHERE state IN ({marks}) ORDER BY updated_at",
            tuple(state.value for state in states),
        ).fetchall()
        return [_send_record(row) for row in rows]

    def interrupted_sends(self, resend: bool, now: datetime) -> list[SendRecord]:
        """Rows left `sending` by a crash: queued again (`resend`) or set aside as unconfirmed."""
        state = SendState.QUEUED if resend else SendState.UNCONFIRMED
        with self.transaction():
            found = self.sends_in(SendState.SENDING)
            self.db.execute(
                "UPDATE sends SET state = ?, last_error = ?, updated_at = ? WHERE state = ?",
                (state.value, "interrupted while sending", now.isoformat(),
                 SendState.SENDING.value),
            )  # fmt: skip
        return found

    def requeue_unconfirmed(self, now: datetime) -> int:
        cursor = self.db.execute(
            "UPDATE sends SET state = ?, updated_at = ? WHERE state = ?",
            (SendState.QUEUED.value, now.isoformat(), SendState.UNCONFIRMED.value),
        )
        return cursor.rowcount

    def bounces_of(self, subscriber: str) -> int:
        """Digests to `subscriber` refused for good by a server (not those out of retries)."""
        row = self.db.execute(
            "SELECT count(*) FROM sends WHERE subscriber = ? AND state = ? "
            "AND last_error NOT LIKE ?",
            (subscriber.lower(), SendState.FAILED.value, GAVE_UP + "%"),
        ).fetchone()
        return int(row[0])

    def sent_since(self, since: datetime) -> list[datetime]:
        """When each digest sent after `since` was accepted (for the hourly rate limit)."""
        rows = self.db.execute(
            "SELECT sent_at FROM sends WHERE sent_at > ? ORDER BY sent_at", (since.isoformat(),)
        ).fetchall()
        return [datetime.fromisoformat(row[0]) for row in rows]

    def last_covered_until(self, subscriber: str) -> datetime | None:
        """The end of the window covered by the subscriber's newest recorded digest."""
        row = self.db.execute(
            "SELECT max(covered_until) FROM sends WHERE subscriber = ? AND state != ?",
            (subscriber.lower(), SendState.FAILED.value),
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def ledger_keys_since(self, edition: str) -> set[tuple[str, str]]:
        """(subscriber, edition) of every row whose edition id sorts at or after `edition`."""
        rows = self.db.execute(
            "SELECT subscriber, edition FROM sends WHERE edition >= ?", (edition,)
        ).fetchall()
        return {(str(subscriber), str(name)) for subscriber, name in rows}

    def last_sent(self) -> dict[str, datetime]:
        """When each subscriber's newest digest was accepted."""
        rows = self.db.execute(
            "SELECT subscriber, max(sent_at) FROM sends WHERE sent_at != '' GROUP BY subscriber"
        ).fetchall()
        return {str(subscriber): datetime.fromisoformat(at) for subscriber, at in rows}

    def sent_editions(self, limit: int = 50) -> list[tuple[str, int, datetime]]:
        """The newest editions: (edition, digests sent, last sent)."""
        rows = self.db.execute(
            "SELECT edition, count(*), max(sent_at) FROM sends WHERE state = ? "
            "GROUP BY edition ORDER BY max(sent_at) DESC LIMIT ?",
            (SendState.SENT.value, limit),
        ).fetchall()
        return [(str(e), int(n), datetime.fromisoformat(at)) for e, n, at in rows]

    def ledger_totals(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, count(*) FROM sends GROUP BY state").fetchall()
        return {str(state): int(count) for state, count in rows}

    def sends_needing_attention(self) -> list[SendRecord]:
        """Rows in flight (or left so by a crash), deferred, unconfirmed and failed."""
        states = (SendState.SENDING, SendState.DEFERRED, SendState.UNCONFIRMED, SendState.FAILED)
        return self.sends_in(*states)


def _send_record(row: tuple[object, ...]) -> SendRecord:
    subscriber, edition, message_id, state, covered_until, attempts, error, retry = row
    return SendRecord(
        subscriber=str(subscriber), edition=str(edition), message_id=str(message_id),
        state=SendState(str(state)), message=b"",
        covered_until=datetime.fromisoformat(str(covered_until)), attempts=int(str(attempts)),
        last_error=str(error),
        next_attempt_at=datetime.fromisoformat(str(retry)) if retry else None,
    )  # fmt: skip
