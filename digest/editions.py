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
from digest.models import Article, Edition, Envelope, Subscriber
from digest.store import Store
from digest.stories import SelectionLimits, select_sections


def edition_id(subscriber: Subscriber, now: datetime) -> str:
    """One edition per subscriber per local calendar day."""
    return now.astimezone(ZoneInfo(subscriber.timezone)).date().isoformat()


def next_edition(
    subscriber: Subscriber,
    store: Store,
    labels: Mapping[str, str],
    settings: Settings,
    now: datetime,
) -> Edition:
    """Stories first seen since the subscriber's last digest, within the maximum age."""
    candidates = store.articles_seen_after(store.last_covered_until(subscriber.email))
    if settings.max_age_days:
        oldest = now - timedelta(days=settings.max_age_days)
        candidates = [a for a in candidates if a.published >= oldest]
    known = _articles_by_title(store, candidates)
    limits = SelectionLimits(
        settings.stories_per_topic, settings.max_stories,
        settings.summary_sentences, settings.summary_max_chars,
    )  # fmt: skip
    sections = select_sections(subscriber, candidates, labels, known, limits)
    return Edition(edition_id(subscriber, now), subscriber, sections, now)


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
