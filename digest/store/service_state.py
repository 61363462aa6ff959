"""What the long-running service keeps in the database: its lease and the last collect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from digest.store.database import Database


@dataclass(frozen=True)
class Lease:
    holder: str  # who runs the service: host, process id
    expires_at: datetime


class ServiceState(Database):
    def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> Lease:
        """Take or renew the lease `name` for `holder`; the lease as it stands afterwards.

        Only one holder at a time: when another holder's lease has not expired, it is
        returned unchanged (compare its holder with yours).
        """
        with self.transaction():
            row = self.db.execute(
                "SELECT holder, expires_at FROM leases WHERE name = ?", (name,)
            ).fetchone()
            if row and row[0] != holder and datetime.fromisoformat(row[1]) > now:
                return Lease(str(row[0]), datetime.fromisoformat(row[1]))
            expires = now + ttl
            self.db.execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at",
                (name, holder, expires.isoformat()),
            )
            return Lease(holder, expires)

    def release_lease(self, name: str, holder: str) -> None:
        self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def mark_collected(self, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('last_collect', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (now.isoformat(),),
        )

    def last_collected(self) -> datetime | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'last_collect'").fetchone()
        return datetime.fromisoformat(row[0]) if row else None
