"""Group articles into stories: a lead, other coverage, a summary and related links."""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import timedelta

from digest.models import Article, RelatedLink, Story
from digest.sentences import content_words
from digest.summarise import WordRarity, summarise

SAME_STORY_SIMILARITY = 0.35
SAME_STORY_WINDOW = timedelta(days=7)


def group_articles(articles: Sequence[Article]) -> list[list[Article]]:
    """Articles about the same event, grouped: each joins the most similar group centroid.

    Deterministic: the input order is fixed by publication time and id first.
    """
    ordered = sorted(articles, key=lambda a: (a.published, a.id))
    clusters: list[_Cluster] = []
    clusters_with_word: dict[str, set[int]] = {}
    for article, vector in zip(ordered, _vectors(ordered), strict=True):
        nearby = {n for word in vector for n in clusters_with_word.get(word, ())}
        best, best_score = -1, SAME_STORY_SIMILARITY
        for number in sorted(nearby):
            cluster = clusters[number]
            if not cluster.accepts(article):
                continue
            score = cluster.similarity(vector)
            if score >= best_score:
                best, best_score = number, score
        if best < 0:
            best = len(clusters)
            clusters.append(_Cluster())
        clusters[best].add(article, vector)
        for word in vector:
            clusters_with_word.setdefault(word, set()).add(best)
    return [cluster.articles for cluster in clusters]


class _Cluster:
    """A growing group: its articles and the running sum of their vectors."""

    def __init__(self) -> None:
        self.articles: list[Article] = []
        self.centroid: dict[str, float] = {}
        self.squared_norm = 0.0

    def accepts(self, article: Article) -> bool:
        newest = self.articles[-1].published
        if article.published - newest > SAME_STORY_WINDOW:
            return False
        return _shares_topic(article, self.articles)

    def similarity(self, vector: dict[str, float]) -> float:
        dot = sum(weight * self.centroid.get(word, 0.0) for word, weight in vector.items())
        norm = math.sqrt(self.squared_norm) * _norm(vector)
        return dot / norm if norm else 0.0

    def add(self, article: Article, vector: dict[str, float]) -> None:
        self.articles.append(article)
        for word, weight in vector.items():
            old = self.centroid.get(word, 0.0)
            self.centroid[word] = old + weight
            self.squared_norm += (old + weight) ** 2 - old**2


def _norm(vector: dict[str, float]) -> float:
    return math.sqrt(sum(v * v for v in vector.values()))


def _vectors(articles: Sequence[Article]) -> list[dict[str, float]]:
    documents = [
        content_words(f"{a.title} {a.title} {a.standfirst or a.text[:300]}") for a in articles
    ]
    frequency = Counter(word for words in documents for word in set(words))
    total = len(documents)
    return [
        {w: c * math.log(1 + total / frequency[w]) for w, c in Counter(words).items()}
        for words in documents
    ]


def _shares_topic(article: Article, group: list[Article]) -> bool:
    if not article.topics:
        return True
    return any(set(article.topics) & set(other.topics) or not other.topics for other in group)


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
    return group_articles(articles), WordRarity(a.text for a in articles)


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
    summary = summarise(lead, limits.summary_sentences, limits.summary_max_chars, rarity)
    related = (*_embedded_links(fresh, known), *_earlier_links(earlier))
    return Story(
        topic=lead.topics[0] if lead.topics else "",
        lead=lead,
        summary=summary,
        also=also,
        related=_unique_links(related, {a.url for a in fresh})[: limits.related_links],
    )


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
