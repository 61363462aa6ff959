"""An edition as the templates see it: plain values, safe links, times in the reader's zone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from digest.compose.personal import Personal
from digest.compose.theme import Theme
from digest.models import Article, Edition, RelatedLink, Section, Story

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_ANCHOR = re.compile(r"[^a-z0-9]+")
_URL_UNSAFE = str.maketrans({c: f"%{ord(c):02X}" for c in "<>\"'`\\"})


def one_line(value: str) -> str:
    """A header-safe value: control characters (CR, LF, ...) become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def safe_url(url: str) -> str:
    """`url` if it is an absolute http(s) address a reader can follow, else ""."""
    url = url.strip()
    if not url.isprintable() or any(c.isspace() for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url.translate(_URL_UNSAFE)


def date_label(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def edition_context(
    edition: Edition, theme: Theme, labels: Mapping[str, str], personal: Personal
) -> dict[str, Any]:
    """Everything the templates may print; `personal` holds the subscriber's values."""
    subscriber = edition.subscriber
    zone = ZoneInfo(subscriber.timezone)
    local_date = date_label(edition.created_at.astimezone(zone))
    return {
        "theme": theme,
        "newsletter": theme.name,
        "edition_id": edition.id,
        "date_label": local_date,
        "subject": subject_line(edition, theme, local_date),
        "preheader": preheader(edition),
        "sections": [_section_view(section, zone) for section in edition.sections],
        "story_count": len(edition.stories),
        "subscriber": {
            "name": personal.name,
            "email": personal.email,
            "topics": [labels.get(topic, topic) for topic in subscriber.topics],
            "timezone": subscriber.timezone,
        },
        "links": {
            "unsubscribe": personal.unsubscribe,
            "manage": personal.manage,
            "view_online": personal.view_online,
        },
    }


def subject_line(edition: Edition, theme: Theme, local_date: str) -> str:
    lead = edition.stories[0].lead.title if edition.stories else "No new stories"
    fields = {"name": theme.name, "date": local_date, "headline": lead}
    return one_line(theme.subject_pattern.format(count=len(edition.stories), **fields))


def preheader(edition: Edition) -> str:
    headlines = [story.lead.title for story in edition.stories[1:3]]
    return one_line("Also today: " + "; ".join(headlines)) if headlines else ""


def _section_view(section: Section, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "label": section.label,
        "topic": section.topic,
        "anchor": "topic-" + _ANCHOR.sub("-", section.topic.lower()).strip("-"),
        "stories": [_story_view(story, zone) for story in section.stories],
    }


def _story_view(story: Story, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "headline": one_line(story.lead.title),
        "url": safe_url(story.lead.url),
        "source": one_line(story.lead.source),
        "time_label": time_label(story.lead, zone),
        "summary": story.summary,
        "also": [_link_view(a.title, a.url, a.source) for a in story.also],
        "related": [_related_view(link) for link in story.related],
    }


def _related_view(link: RelatedLink) -> dict[str, str]:
    view = _link_view(link.title, link.url, link.source)
    return {**view, "kind": link.kind, "label": "Earlier" if link.kind == "earlier" else "Related"}


def _link_view(title: str, url: str, source: str) -> dict[str, str]:
    return {"title": one_line(title), "url": safe_url(url), "source": one_line(source)}


def time_label(article: Article, zone: ZoneInfo) -> str:
    local = article.published.astimezone(zone)
    return f"{local.day} {local:%b}, {local:%H:%M}"
