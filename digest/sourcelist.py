"""The sources file: the topics a digest knows and the feeds and folders it reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from digest.errors import ConfigError
from digest.yamlfile import LineDict, load_yaml, require_list, require_mapping, string_list

_TOPIC_NAME = re.compile(r"^[a-z0-9][a-z0-9 _-]*$")
_SOURCE_KEYS = {"name", "feed", "folder", "topics", "allow_private", "link"}


@dataclass(frozen=True)
class Topic:
    name: str  # the key subscribers use, lower case
    label: str  # the heading shown in the digest
    aliases: tuple[str, ...] = ()  # other labels (topic lines, feed categories) that mean it
    keywords: tuple[str, ...] = ()  # words in a headline or standfirst that put it here
    description: str = ""  # one line; helps place articles that name no topic


@dataclass(frozen=True)
class SourceConfig:
    name: str
    kind: str  # "feed" or "folder"
    location: str  # a URL, or a path resolved against the sources file's folder
    topics: tuple[str, ...] = ()
    allow_private: bool = False  # may a feed URL resolve to a loopback/private address?
    link: str = ""  # for folders: article URL pattern with {stem}, else the web archive

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))


@dataclass(frozen=True)
class SourceList:
    topics: tuple[Topic, ...]
    sources: tuple[SourceConfig, ...]

    @property
    def topic_names(self) -> set[str]:
        return {topic.name for topic in self.topics}

    @cached_property
    def _label_lookup(self) -> dict[str, str]:
        """Every name, label and alias, lower case, to its topic: built once, used per article."""
        return {
            word.strip().lower(): topic.name
            for topic in self.topics
            for word in (topic.name, topic.label, *topic.aliases)
        }

    @cached_property
    def _keyword_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return [
            (topic.name, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE))
            for topic in self.topics
            if (alternatives := "|".join(re.escape(k) for k in topic.keywords))
        ]

    def topics_for_labels(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        """Map free-text labels (topic lines, feed categories) to configured topic names."""
        found = (self._label_lookup.get(label.strip().lower()) for label in labels)
        return tuple(dict.fromkeys(name for name in found if name))

    def topics_for_text(self, text: str) -> tuple[str, ...]:
        """Topics whose configured keywords occur in `text` as whole words, ignoring case."""
        return tuple(name for name, pattern in self._keyword_patterns if pattern.search(text))


def load_sources(path: Path) -> SourceList:
    """Read and validate the sources file; the first problem raises ConfigError."""
    document = require_mapping(load_yaml(path), path, 1, "the file")
    topics = _topics(document, path)
    names = {topic.name for topic in topics}
    entries = require_list(document.get("sources"), path, document.line, "`sources`")
    sources = tuple(
        _source(require_mapping(entry, path, line, "a source"), path, names)
        for entry, line in zip(entries, entries.item_lines, strict=True)
    )
    return SourceList(topics=topics, sources=sources)


def _topics(document: LineDict, path: Path) -> tuple[Topic, ...]:
    raw = require_mapping(document.get("topics"), path, document.line_of("topics"), "`topics`")
    topics = []
    for name, value in raw.items():
        line = raw.line_of(name)
        key = str(name).strip().lower()
        if not _TOPIC_NAME.match(key):
            raise ConfigError(path, line, f"topic name `{name}` must be lower-case words.")
        details = require_mapping(value or LineDict(), path, line, f"topic `{name}`")
        label = details.get("label", key.title())
        aliases = string_list(details, "aliases", path)
        keywords = string_list(details, "keywords", path)
        description = str(details.get("description", "")).strip()
        topics.append(Topic(key, str(label), aliases, keywords, description))
    if not topics:
        raise ConfigError(path, raw.line, "define at least one topic under `topics:`.")
    return tuple(topics)


def _source(entry: LineDict, path: Path, topic_names: set[str]) -> SourceConfig:
    unknown = set(entry) - _SOURCE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        allowed = ", ".join(sorted(_SOURCE_KEYS))
        raise ConfigError(path, entry.line_of(key), f"unknown key `{key}`; use one of {allowed}.")
    kinds = [kind for kind in ("feed", "folder") if kind in entry]
    if len(kinds) != 1:
        message = "each source needs exactly one of `feed:` (URL or file) or `folder:`."
        raise ConfigError(path, entry.line, message)
    kind = kinds[0]
    location = str(entry[kind]).strip()
    if not location.startswith(("http://", "https://")):
        location = str((path.parent / location).resolve())
    topics = tuple(t.strip().lower() for t in string_list(entry, "topics", path))
    for topic in topics:
        if topic not in topic_names:
            message = f"unknown topic `{topic}`; add it under `topics:` or fix the name."
            raise ConfigError(path, entry.line_of("topics"), message)
    allow_private = entry.get("allow_private", False)
    if not isinstance(allow_private, bool):
        raise ConfigError(path, entry.line_of("allow_private"), "use `true` or `false`.")
    return SourceConfig(
        name=str(entry.get("name") or Path(location).stem),
        kind=kind,
        location=location,
        topics=topics,
        allow_private=allow_private,
        link=str(entry.get("link", "")),
    )
