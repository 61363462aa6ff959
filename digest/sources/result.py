"""What reading one source gives back: its articles and the problems met on the way."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from digest.errors import SourceError
from digest.models import Article

TopicMapper = Callable[[tuple[str, ...]], tuple[str, ...]]


@dataclass
class SourceResult:
    source: str
    articles: list[Article] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    unchanged_files: int = 0  # article files skipped: the same as when last read
    stamps: dict[str, str] = field(default_factory=dict)  # path -> stamp of files read


def article_id(guid: str) -> str:
    """A short stable id for an article, derived from its guid."""
    return hashlib.sha256(guid.encode("utf-8")).hexdigest()[:16]
