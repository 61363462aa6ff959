"""Dates from article metadata, always as timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_from_iso(value: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 date or time in UTC (no offset means UTC); None if unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
