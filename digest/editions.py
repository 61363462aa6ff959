"""What a subscriber's next digest holds: the stories new since their last one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from digest.config import Settings
from digest.models import Article, Edition, Story, Subscriber
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
