"""Addresses never to send to again: unsubscribed, or refused too often by their server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digest.store.database import Database

UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str  # UNSUBSCRIBED or BOUNCED
    detail: str
    created_at: datetime


class Suppressions(Database):
    def suppress(self, email: str, reason: str, detail: str, now: datetime) -> None:
        """Stop sending to `email` (the first reason recorded is kept)."""
        self.db.execute(
            "INSERT OR IGNORE INTO suppressions (email, reason, detail, created_at) "
            "VALUES (?, ?, ?, ?)",
            (email.lower(), reason, detail, now.isoformat()),
        )

    def unsuppress(self, email: str) -> None:
        self.db.execute("DELETE FROM suppressions WHERE email = ?", (email.lower(),))

    def suppressed(self) -> dict[str, Suppression]:
        rows = self.db.execute(
            "SELECT email, reason, detail, created_at FROM suppressions ORDER BY created_at"
        ).fetchall()
        return {
            str(email): Suppression(
                str(email), str(reason), str(detail), datetime.fromisoformat(at)
            )
            for email, reason, detail, at in rows
        }
