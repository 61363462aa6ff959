"""What subscribers chose on the web: their topics, and the one-time form nonces used."""

from __future__ import annotations

import json
from datetime import datetime

from digest.store.database import Database


class Preferences(Database):
    def choose_topics(self, email: str, topics: tuple[str, ...], now: datetime) -> None:
        """Topics picked on the manage page: they win over subscribers.yaml from now on."""
        self.db.execute(
            "INSERT INTO topic_choices (email, topics, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (email) DO UPDATE SET topics = excluded.topics, "
            "updated_at = excluded.updated_at",
            (email.lower(), json.dumps(list(topics)), now.isoformat()),
        )

    def topic_choices(self) -> dict[str, tuple[str, ...]]:
        rows = self.db.execute("SELECT email, topics FROM topic_choices").fetchall()
        return {str(email): tuple(json.loads(topics)) for email, topics in rows}

    def use_form(self, nonce: str, expires: datetime, now: datetime) -> bool:
        """Spend a form's one-time nonce; False when it was spent before (a replay)."""
        with self.transaction():
            self.db.execute("DELETE FROM used_forms WHERE expires_at < ?", (now.isoformat(),))
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO used_forms (nonce, expires_at) VALUES (?, ?)",
                (nonce, expires.isoformat()),
            )
            return cursor.rowcount == 1
