"""Plain data passed between the pipeline's steps. Frozen: steps return new values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"


class MailFormat(StrEnum):
    HTML = "html"
    TEXT = "text"


@dataclass(frozen=True)
class Article:
    """One article as read from a source, normalised."""

    guid: str
    url: str
    title: str
    text: str  # clean text, paragraphs separated by blank lines, no boilerplate
    source: str  # the outlet that published it
    published: datetime  # timezone-aware UTC
    topics: tuple[str, ...] = ()
    standfirst: str = ""
    html: str = ""  # sanitised HTML body, when the source had HTML
    author: str = ""
    related_headlines: tuple[str, ...] = ()
    footnotes: tuple[str, ...] = ()
    id: str = ""  # stable id given by the store (hash of the guid)
    first_seen: datetime | None = None  # when the collector first stored it
    source_key: str = ""  # the configured source (feed URL/path or folder) it came from
    canonical_url: str = ""  # url without tracking parameters or fragment
    duplicate_of: str = ""  # id of an earlier article with the same text, if any


@dataclass(frozen=True)
class RelatedLink:
    title: str
    url: str
    kind: str  # "related": an embedded headline we know; "earlier": the same thread before
    source: str = ""


@dataclass(frozen=True)
class Story:
    """One event: a lead article plus other coverage of the same event."""

    topic: str
    lead: Article
    summary: str
    also: tuple[Article, ...] = ()
    related: tuple[RelatedLink, ...] = ()

    @property
    def articles(self) -> tuple[Article, ...]:
        return (self.lead, *self.also)

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for a in self.articles for t in a.topics))

    @property
    def id(self) -> str:
        """Stable while the story grows: its earliest article names it."""
        return min(self.articles, key=lambda a: (a.published, a.id)).id


@dataclass(frozen=True)
class Section:
    topic: str
    label: str
    stories: tuple[Story, ...]


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str
    topics: tuple[str, ...]
    timezone: str = "UTC"
    send_at: time = time(7, 0)
    frequency: Frequency = Frequency.DAILY
    days: tuple[str, ...] = ("mon",)  # for weekly digests: three-letter day names
    format: MailFormat = MailFormat.HTML


@dataclass(frozen=True)
class Edition:
    """What one subscriber gets on one date: sections of stories, in their topic order."""

    id: str  # the subscriber's local date, YYYY-MM-DD
    subscriber: Subscriber
    sections: tuple[Section, ...]
    created_at: datetime

    @property
    def stories(self) -> tuple[Story, ...]:
        return tuple(story for section in self.sections for story in section.stories)


@dataclass(frozen=True)
class Envelope:
    """A ready-to-send message: canonical bytes (CRLF) plus SMTP envelope addresses."""

    sender: str
    recipient: str
    message_id: str
    data: bytes
    name: str = field(default="message")  # file-name stem, for the outbox


class SendState(StrEnum):
    QUEUED = "queued"  # composed and stored, not yet handed to the mailer
    SENDING = "sending"  # handed to the mailer: the server may or may not have it
    SENT = "sent"
    DEFERRED = "deferred"  # a temporary failure: tried again from `next_attempt_at`
    FAILED = "failed"  # refused for good by the server, or out of retries
    UNCONFIRMED = "unconfirmed"  # interrupted while sending; resent only by `retry --unconfirmed`


@dataclass(frozen=True)
class SendRecord:
    """One row of the send ledger: one subscriber's digest for one edition."""

    subscriber: str
    edition: str
    message_id: str
    state: SendState
    message: bytes  # when composed; rows read back leave it empty (Store.message_of)
    covered_until: datetime
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime | None = None  # for deferred sends

    @property
    def key(self) -> tuple[str, str]:
        """The idempotency key: one digest per subscriber per edition, ever."""
        return (self.subscriber, self.edition)
