"""Group articles into stories: a lead, other coverage, a summary and related links."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from digest.clustering import group_articles
from digest.models import Article, RelatedLink, Story
from digest.summarise import WordRarity, summarise


@dataclass(frozen=True)
class StoryLimits:
    summary_sentences: int = 3
    summary_max_chars: int = 420
    related_links: int = 4


def build_stories(
    recent: Sequence[Article],
    new_ids: AbstractSet[str],
    known: Mapping[str, Article],
    limits: StoryLimits,
) -> list[Story]:
    """Stories of the new articles; older members of the same thread become "earlier" links.

    `recent` holds the new articles and the archive of the last weeks, grouped together, so
    a story is the same for every subscriber and a continuing story can point back.
    """
    groups, rarity = _grouped(tuple(recent))
    stories = []
    for group in groups:
        fresh = [a for a in group if a.id in new_ids]
        if fresh:
            earlier = [a for a in group if a.id not in new_ids]
            stories.append(make_story(fresh, earlier, known, limits, rarity))
    return stories


@functools.lru_cache(maxsize=8)
def _grouped(articles: tuple[Article, ...]) -> tuple[list[list[Article]], WordRarity]:
    """Subscribers of one run share their recent articles: group and weigh them once."""
    groups = [part for group in group_articles(articles) for part in _apart_from_related(group)]
    return groups, WordRarity(a.text for a in articles)


def _apart_from_related(group: list[Article]) -> list[list[Article]]:
    """An article another member names as a *related* headline is, by its publisher's
    word, another story: it stands on its own (and becomes a related link instead)."""
    named = {h.casefold() for a in group for h in a.related_headlines}
    apart = [a for a in group if a.title.casefold() in named]
    rest = [a for a in group if a.title.casefold() not in named]
    return [part for part in (rest, *([a] for a in apart)) if part]


def make_story(
    fresh: list[Article],
    earlier: list[Article],
    known: Mapping[str, Article],
    limits: StoryLimits,
    rarity: WordRarity | None = None,
) -> Story:
    """The lead is the article with a standfirst and the fullest text; the rest are 'also'."""
    lead = max(fresh, key=lambda a: (bool(a.standfirst), len(a.text), -a.published.timestamp()))
    also = tuple(a for a in fresh if a is not lead and a.source != lead.source)
    summary = _summary(lead, limits.summary_sentences, limits.summary_max_chars, rarity)
    related = (*_embedded_links(fresh, known), *_earlier_links(earlier))
    return Story(
        topic=lead.topics[0] if lead.topics else "",
        lead=lead,
        summary=summary,
        also=also,
        related=_unique_links(related, {a.url for a in fresh})[: limits.related_links],
    )


@functools.lru_cache(maxsize=4096)
def _summary(lead: Article, sentences: int, max_chars: int, rarity: WordRarity | None) -> str:
    """Every subscriber's edition (and every preview) re-makes the same stories: summarise
    each lead once per word-rarity background."""
    return summarise(lead, sentences, max_chars, rarity)


def _embedded_links(group: list[Article], known: Mapping[str, Article]) -> list[RelatedLink]:
    """Embedded related headlines that resolve to an article we know."""
    targets = (known.get(h.casefold()) for a in group for h in a.related_headlines)
    return [RelatedLink(t.title, t.url, "related", t.source) for t in targets if t is not None]


def _earlier_links(earlier: list[Article]) -> list[RelatedLink]:
    """The thread's earlier articles, newest first: what led up to today's story."""
    newest_first = sorted(earlier, key=lambda a: (a.published, a.id), reverse=True)
    return [RelatedLink(a.title, a.url, "earlier", a.source) for a in newest_first]


def _unique_links(links: Sequence[RelatedLink], exclude: set[str]) -> tuple[RelatedLink, ...]:
    seen = set(exclude)
    unique = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            unique.append(link)
    return tuple(unique)
