"""What a subscriber's next digest holds, and how it becomes a ready-to-send message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jinja2

from digest.compose import (
    Branding,
    RenderedDigest,
    SubscriberLinks,
    build_message,
    new_message_id,
    render_digest,
)
from digest.config import Settings
from digest.links import signed_token
from digest.models import Article, Edition, Envelope, Story, Subscriber
from digest.ranking import SelectionLimits, select_sections
from digest.store import Store
from digest.stories import StoryLimits, build_stories


def edition_id(subscriber: Subscriber, now: datetime) -> str:
    """One edition per subscriber per local calendar day."""
    return now.astimezone(ZoneInfo(subscriber.timezone)).date().isoformat()


THREAD_DAYS = 30  # how far back a continuing story looks for its earlier articles


def next_edition(
    subscriber: Subscriber,
    store: Store,
    labels: Mapping[str, str],
    settings: Settings,
    now: datetime,
) -> Edition:
    """Stories first seen since the subscriber's last digest, within the maximum age."""
    last = store.last_covered_until(subscriber.email)
    stories = stories_since(store, settings, now, last)
    limits = SelectionLimits(settings.stories_per_topic, settings.max_stories)
    sections = select_sections(subscriber, stories, labels, limits)
    return Edition(edition_id(subscriber, now), subscriber, sections, now)


def stories_since(
    store: Store, settings: Settings, now: datetime, since: datetime | None
) -> list[Story]:
    """Stories of the articles first seen after `since` (all when None) and not too old."""
    thread_start = now - timedelta(days=THREAD_DAYS)
    recent = store.articles_seen_after(min(since, thread_start) if since else None)
    oldest = now - timedelta(days=settings.max_age_days) if settings.max_age_days else None
    new_ids = {
        a.id
        for a in recent
        if (since is None or (a.first_seen is not None and a.first_seen > since))
        and (oldest is None or a.published >= oldest)
    }
    known = _articles_by_title(store, [a for a in recent if a.id in new_ids])
    limits = StoryLimits(
        settings.summary_sentences, settings.summary_max_chars, settings.related_links
    )
    return build_stories(recent, new_ids, known, limits)


def _articles_by_title(store: Store, articles: list[Article]) -> dict[str, Article]:
    titles = {headline for a in articles for headline in a.related_headlines}
    return {a.title.casefold(): a for a in store.articles_titled(titles)}


@dataclass(frozen=True)
class Composer:
    """Turns editions into rendered digests and messages; holds what every message shares."""

    settings: Settings
    env: jinja2.Environment
    secret: str
    make_message_id: Callable[[str], str] = field(default=new_message_id)

    @property
    def brand(self) -> Branding:
        s = self.settings
        return Branding(s.newsletter_name, s.base_url.rstrip("/"), s.mail_from)

    def links(self, subscriber: Subscriber, edition: str) -> SubscriberLinks:
        base = self.settings.base_url.rstrip("/")

        def token(purpose: str) -> str:
            return signed_token(self.secret, subscriber.email, purpose)

        return SubscriberLinks(
            unsubscribe=f"{base}/unsubscribe/{token('unsubscribe')}",
            manage=f"{base}/manage/{token('manage')}",
            view_online=f"{base}/archive/{edition}/{token('view')}",
        )

    def render(self, edition: Edition) -> RenderedDigest:
        return render_digest(
            edition, self.brand, self.links(edition.subscriber, edition.id), self.env
        )

    def envelope(self, edition: Edition) -> Envelope:
        subscriber = edition.subscriber
        links = self.links(subscriber, edition.id)
        rendered = render_digest(edition, self.brand, links, self.env)
        message_id = self.make_message_id(self.settings.sender_domain)
        data = build_message(
            rendered, subscriber, self.brand, links, edition.created_at, message_id
        )
        return Envelope(
            sender=self.settings.sender_address,
            recipient=subscriber.email,
            message_id=message_id,
            data=data,
            name=outbox_name(edition.id, subscriber.email),
        )


def outbox_name(edition: str, email: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in email.lower())
    return f"{edition}-{safe}"
