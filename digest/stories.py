"""Group articles into stories, pick what each subscriber gets, in their topic order."""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from digest.models import Article, RelatedLink, Section, Story, Subscriber
from digest.sentences import content_words
from digest.summarise import summarise

SAME_STORY_SIMILARITY = 0.35
SAME_STORY_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class SelectionLimits:
    stories_per_topic: int = 5
    max_stories: int = 20
    summary_sentences: int = 3
    summary_max_chars: int = 420


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


def make_story(
    group: list[Article], topic: str, known: Mapping[str, Article], limits: SelectionLimits
) -> Story:
    """The lead is the article with a standfirst and the fullest text; the rest are 'also'."""
    lead = max(group, key=lambda a: (bool(a.standfirst), len(a.text), -a.published.timestamp()))
    also = tuple(a for a in group if a is not lead and a.source != lead.source)
    return Story(
        topic=topic,
        lead=lead,
        summary=summarise(lead, limits.summary_sentences, limits.summary_max_chars),
        also=also,
        related=_related_links(group, known),
    )


def _related_links(group: list[Article], known: Mapping[str, Article]) -> tuple[RelatedLink, ...]:
    """Embedded related headlines that resolve to an article we know, outside the story."""
    inside = {a.id for a in group}
    links: dict[str, RelatedLink] = {}
    for article in group:
        for headline in article.related_headlines:
            target = known.get(headline.casefold())
            if target and target.id not in inside and target.url not in links:
                links[target.url] = RelatedLink(target.title, target.url, "related", target.source)
    return tuple(links.values())


def select_sections(
    subscriber: Subscriber,
    articles: Sequence[Article],
    labels: Mapping[str, str],
    known: Mapping[str, Article],
    limits: SelectionLimits,
) -> tuple[Section, ...]:
    """The subscriber's stories, a section per topic in their order, within the limits.

    Articles are grouped all together first, so a story is the same for every subscriber.
    """
    by_topic: dict[str, list[list[Article]]] = {topic: [] for topic in subscriber.topics}
    for group in _grouped(tuple(articles)):
        topics = {t for a in group for t in a.topics}
        first = next((t for t in subscriber.topics if t in topics), None)
        if first is not None:
            by_topic[first].append(group)
    sections = []
    budget = limits.max_stories
    for topic in subscriber.topics:
        groups = sorted(by_topic[topic], key=_rank_key)[: min(limits.stories_per_topic, budget)]
        if groups:
            stories = tuple(make_story(g, topic, known, limits) for g in groups)
            sections.append(Section(topic, labels.get(topic, topic.title()), stories))
            budget -= len(stories)
    return tuple(sections)


@functools.lru_cache(maxsize=8)
def _grouped(articles: tuple[Article, ...]) -> list[list[Article]]:
    """Subscribers of one run mostly share their candidates: group them once."""
    return group_articles(articles)


def _rank_key(group: list[Article]) -> tuple[int, float, str]:
    """More sources first, then the most recent, then a stable tie-break."""
    newest = max(a.published for a in group)
    return (-len({a.source for a in group}), -newest.timestamp(), min(a.id for a in group))
