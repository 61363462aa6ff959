"""`subscribers.yaml`: who gets which topics, when, and in which format."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.errors import ConfigError
from digest.models import Frequency, MailFormat, Subscriber
from digest.yamlfile import LineDict, load_yaml, require_list, require_mapping, string_list

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
E = TypeVar("E", Frequency, MailFormat)
_KNOWN_KEYS = {"email", "name", "topics", "timezone", "send_at", "frequency", "days", "format"}


def load_subscribers(path: Path, known_topics: set[str]) -> tuple[Subscriber, ...]:
    """Read and validate every subscriber; the first problem raises ConfigError."""
    document = require_mapping(load_yaml(path), path, 1, "the file")
    entries = require_list(document.get("subscribers"), path, document.line, "`subscribers`")
    subscribers = []
    for entry, line in zip(entries, entries.item_lines, strict=True):
        subscribers.append(_subscriber(require_mapping(entry, path, line, "a subscriber"), path))
    _check_unique(subscribers, entries, path)
    for subscriber, entry in zip(subscribers, entries, strict=True):
        _check_topics(subscriber, entry, known_topics, path)
    return tuple(subscribers)


def _subscriber(entry: LineDict, path: Path) -> Subscriber:
    unknown = set(entry) - _KNOWN_KEYS
    if unknown:
        key = sorted(unknown)[0]
        known = ", ".join(sorted(_KNOWN_KEYS))
        raise ConfigError(path, entry.line_of(key), f"unknown key `{key}`; use one of: {known}.")
    email = _text(entry, "email", path, required=True)
    if not _EMAIL.match(email):
        raise ConfigError(path, entry.line_of("email"), f"`{email}` is not an email address.")
    frequency = _choice(entry, "frequency", Frequency, path, Frequency.DAILY)
    return Subscriber(
        email=email,
        name=_text(entry, "name", path) or email.partition("@")[0],
        topics=_topics(entry, path),
        timezone=_timezone(entry, path),
        send_at=_send_at(entry, path),
        frequency=frequency,
        days=_days(entry, path, frequency),
        format=_choice(entry, "format", MailFormat, path, MailFormat.HTML),
    )


def _text(entry: LineDict, key: str, path: Path, *, required: bool = False) -> str:
    value = entry.get(key)
    if value is None:
        if required:
            raise ConfigError(path, entry.line, f"each subscriber needs `{key}:`; add it.")
        return ""
    if not isinstance(value, str) or _CONTROL.search(value):
        raise ConfigError(path, entry.line_of(key), f"`{key}` must be one line of text.")
    return value.strip()


def _topics(entry: LineDict, path: Path) -> tuple[str, ...]:
    topics = tuple(t.strip().lower() for t in string_list(entry, "topics", path))
    if not topics:
        raise ConfigError(path, entry.line, "each subscriber needs at least one of `topics:`.")
    return topics


def _timezone(entry: LineDict, path: Path) -> str:
    name = _text(entry, "timezone", path) or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            path,
            entry.line_of("timezone"),
            f"unknown timezone `{name}`; use an IANA name "
            "such as Europe/London or America/New_York.",
        ) from None
    return name


def _send_at(entry: LineDict, path: Path) -> time:
    value = entry.get("send_at", "07:00")
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 07:00 as sexagesimal minutes
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?", str(value).strip())
    if not match:
        message = f'`send_at: {value}` must be HH:MM (or "HH:MM:SS", quoted).'
        raise ConfigError(path, entry.line_of("send_at"), message)
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _choice(entry: LineDict, key: str, kind: type[E], path: Path, default: E) -> E:
    value = entry.get(key, default.value)
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ConfigError(path, entry.line_of(key), f"`{key}` must be one of: {allowed}.") from None


def _days(entry: LineDict, path: Path, frequency: Frequency) -> tuple[str, ...]:
    days = tuple(d.strip().lower()[:3] for d in string_list(entry, "days", path))
    if any(day not in DAY_NAMES for day in days):
        allowed = ", ".join(DAY_NAMES)
        raise ConfigError(path, entry.line_of("days"), f"`days` items must be among {allowed}.")
    if days and frequency is not Frequency.WEEKLY:
        raise ConfigError(path, entry.line_of("days"), "`days` only applies to weekly digests.")
    return days or ("mon",)


def _check_unique(subscribers: list[Subscriber], entries: list[LineDict], path: Path) -> None:
    seen: set[str] = set()
    for subscriber, entry in zip(subscribers, entries, strict=True):
        key = subscriber.email.lower()
        if key in seen:
            message = f"`{subscriber.email}` is listed twice; keep one entry."
            raise ConfigError(path, entry.line_of("email"), message)
        seen.add(key)


def _check_topics(subscriber: Subscriber, entry: LineDict, known: set[str], path: Path) -> None:
    for topic in subscriber.topics:
        if topic not in known:
            choices = ", ".join(sorted(known))
            message = f"unknown topic `{topic}`; the sources file defines: {choices}."
            raise ConfigError(path, entry.line_of("topics"), message)
