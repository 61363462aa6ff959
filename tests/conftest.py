"""Shared fixtures: a small project of our own articles and feeds, a fixed clock."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digest.collect import collect
from digest.config import Settings, load_settings
from digest.editions import next_edition
from digest.models import Edition
from digest.runtime import Runtime, open_runtime

pytest_plugins = ["tests.browser"]

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

SOURCES_YAML = """\
topics:
  coast:
    label: Coast
    aliases: [weather]
  farming:
    label: Farming
sources:
  - name: Bayside desk
    folder: articles
  - name: Farm notes
    folder: notes
    topics: [farming]
  - name: Shoreline Post
    feed: feeds/coast.rss.xml
  - name: Field and Fold
    feed: feeds/farming.atom.xml
"""

SUBSCRIBERS_YAML = """\
subscribers:
  - email: sailor@example.com
    name: Sam Sailor
    topics: [coast]
    timezone: Europe/London
    send_at: "07:00"
  - email: farmer@example.org
    name: Fern Farmer
    topics: [farming]
    timezone: America/New_York
    send_at: "06:30"
    frequency: weekdays
    format: text
"""


def billion_laughs() -> bytes:
    """An RSS document whose nested entities would expand to a billion "lol"s."""
    entities = "".join(f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e0 "lol">{entities}]>'
        '<rss version="2.0"><channel><title>&e9;</title><item><title>&e9;</title>'
        "<link>https://x.example.com/a</link></item></channel></rss>"
    ).encode()


@dataclass(frozen=True)
class Project:
    root: Path
    environ: dict[str, str]

    def settings(self, **overrides: str) -> Settings:
        return load_settings(None, {**self.environ, **overrides})

    def runtime(self, now: datetime = NOW, **overrides: str) -> Runtime:
        return open_runtime(self.settings(**overrides), clock=lambda: now)


def write_project(root: Path, file_time: datetime = NOW) -> Project:
    """Copy our fixtures into `root`, with config files and article times set to `file_time`."""
    shutil.copytree(FIXTURES / "articles", root / "articles")
    shutil.copytree(FIXTURES / "feeds", root / "feeds")
    (root / "feeds" / "broken.xml").unlink()
    (root / "notes").mkdir()
    shutil.move(root / "articles" / "orchard-notes.txt", root / "notes" / "orchard-notes.txt")
    for path in [*(root / "articles").iterdir(), *(root / "notes").iterdir()]:
        os.utime(path, (file_time.timestamp(), file_time.timestamp()))
    (root / "sources.yaml").write_text(SOURCES_YAML, encoding="utf-8")
    (root / "subscribers.yaml").write_text(SUBSCRIBERS_YAML, encoding="utf-8")
    environ = {
        "DIGEST_SOURCES": str(root / "sources.yaml"),
        "DIGEST_SUBSCRIBERS": str(root / "subscribers.yaml"),
        "DIGEST_DATABASE": str(root / "data" / "digest.db"),
        "DIGEST_OUTBOX": str(root / "outbox"),
        "DIGEST_PREVIEW_DIR": str(root / "preview"),
        "DIGEST_FROM": "Bayside Digest <news@bayside.example.com>",
        "DIGEST_BASE_URL": "https://digest.bayside.example.com",
        "DIGEST_SECRET": "test-secret-not-for-production",
    }
    return Project(root, environ)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return write_project(tmp_path)


@pytest.fixture
def runtime(project: Project) -> Iterator[Runtime]:
    opened = project.runtime()
    yield opened
    opened.close()


def sample_environ(folder: Path) -> dict[str, str]:
    """Settings for a copy of the bundled samples in `folder` (see `copy_samples`)."""
    return {
        "DIGEST_SOURCES": str(folder / "sources.yaml"),
        "DIGEST_SUBSCRIBERS": str(REPO / "subscribers.yaml"),
        "DIGEST_DATABASE": str(folder / "digest.db"),
        "DIGEST_OUTBOX": str(folder / "outbox"),
        "DIGEST_PREVIEW_DIR": str(folder / "preview"),
        "DIGEST_MAX_AGE_DAYS": "0",
        "DIGEST_RETENTION_DAYS": "0",
        "DIGEST_FROM": "The Digest <digest@news.example.com>",
        "DIGEST_BASE_URL": "https://digest.example.com",
        "DIGEST_SECRET": "sample-secret-not-for-production",
    }


def copy_samples(folder: Path) -> None:
    """The bundled sources.yaml and samples/, with article files dated before NOW.

    A file's time is its article's time when the file names none; a checkout's times
    change, so each file gets a fixed time from its name (0 to 23 hours before NOW).
    """
    shutil.copy(REPO / "sources.yaml", folder / "sources.yaml")
    shutil.copytree(REPO / "samples", folder / "samples")
    for path in sorted((folder / "samples").rglob("*.*")):
        hours = int(hashlib.sha256(path.name.encode()).hexdigest(), 16) % 24
        stamp = (NOW - timedelta(hours=hours, minutes=7)).timestamp()
        os.utime(path, (stamp, stamp))


def open_sample_runtime(folder: Path, **overrides: str) -> Runtime:
    """The bundled sample sources and subscribers, collected at NOW into `folder`."""
    copy_samples(folder)
    settings = load_settings(None, {**sample_environ(folder), **overrides})
    opened = open_runtime(settings, clock=lambda: NOW)
    collect(opened.sources, opened.store, opened.settings, NOW)
    return opened


@pytest.fixture
def sample_runtime(tmp_path: Path) -> Iterator[Runtime]:
    opened = open_sample_runtime(tmp_path)
    yield opened
    opened.close()


def sample_edition(runtime: Runtime, email: str = "ada@example.com") -> Edition:
    """The next edition of one of the sample subscribers (Ada: HTML, Europe/London)."""
    subscriber = next(s for s in runtime.subscribers if s.email == email)
    ctx = runtime.send_context
    return next_edition(subscriber, runtime.store, ctx.labels, runtime.settings, NOW)
