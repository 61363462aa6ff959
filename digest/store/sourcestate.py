"""What the collector remembers about each source between runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from digest.store.database import Database


@dataclass(frozen=True)
class SourceState:
    """Per source: where it lives now, validators for conditional GET, and its health."""

    location: str  # as configured
    name: str = ""
    fetch_url: str = ""  # the new address after a permanent redirect
    etag: str = ""
    last_modified: str = ""
    content_hash: str = ""  # of the last feed file read, to skip unchanged files
    retired: bool = False  # the server said 410 Gone
    last_success: str = ""  # ISO time
    last_error: str = ""
    last_error_at: str = ""
    failures: int = 0  # consecutive failed runs


_NAMES = [f.name for f in fields(SourceState)]


class SourceStates(Database):
    def source_state(self, location: str) -> SourceState:
        row = self.db.execute(
            f"SELECT {', '.join(_NAMES)} FROM source_state WHERE location = ?", (location,)
        ).fetchone()
        return _state(row) if row else SourceState(location)

    def all_source_states(self) -> dict[str, SourceState]:
        rows = self.db.execute(f"SELECT {', '.join(_NAMES)} FROM source_state").fetchall()
        return {str(row[0]): _state(row) for row in rows}

    def save_source_state(self, state: SourceState) -> None:
        values = asdict(state)
        values["retired"] = int(state.retired)
        marks = ", ".join("?" for _ in _NAMES)
        self.db.execute(
            f"INSERT OR REPLACE INTO source_state ({', '.join(_NAMES)}) VALUES ({marks})",
            [values[name] for name in _NAMES],
        )


class FileStamps(Database):
    """Size, modification time and reader settings of each article file last read."""

    def file_stamps(self) -> dict[str, str]:
        rows = self.db.execute("SELECT path, stamp FROM file_stamps").fetchall()
        return {str(path): str(stamp) for path, stamp in rows}

    def save_file_stamps(self, stamps: dict[str, str]) -> None:
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO file_stamps (path, stamp) VALUES (?, ?)", stamps.items()
            )


def _state(row: tuple[object, ...]) -> SourceState:
    values = dict(zip(_NAMES, row, strict=True))
    values["retired"] = bool(values["retired"])
    return SourceState(**values)  # type: ignore[arg-type]
