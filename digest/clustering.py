"""Group articles about the same event into stories, across sources, within a time window.

Each article becomes a TF-IDF vector of its headline (counted twice) and its lead. Groups
then merge, the most similar pair first, while the cosine of their summed vectors (their
centroids) reaches SAME_STORY_SIMILARITY. A lone article needs more than one word in
common: its headline must share two words with the other side. A second pass weighs each
word again by the number of *groups* that use it rather than of articles, because a big
story's own words (a name in every headline) are common among articles but rare among
stories, while filler ("warns", "shares") is spread over many; merging then goes on.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import chain, repeat
from operator import mul

from digest.models import Article
from digest.sentences import STOPWORDS

# Grouping of labelled headlines was stable from 0.10 to 0.20 (0.12 to 0.22 with unrelated
# headlines mixed in); the upper part, because full articles share more incidental words
# than headlines, and a wrongly merged story hides news while a split one only repeats it.
SAME_STORY_SIMILARITY = 0.2
# Coverage of one story never pauses for longer than this.
SAME_STORY_WINDOW = timedelta(days=7)
LEAD_CHARS = 400  # about two sentences: where a report states its event
KEPT_WORDS = 16  # an article's weightiest words: its names, places and what happened
INDEXED_WORDS = 12  # a group is found through its weightiest words
# Each article or group is compared with at most this many others, those sharing the most
# of its weightiest words: the work stays bounded even when hundreds repeat one headline.
CANDIDATES = 32

_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_POSSESSIVE = re.compile(r"['’]s\b")
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
# Headline furniture and reporting verbs: they say how a story is told, not what happened.
_FILLER = frozenset(
    """
    update updated updates video watch live news report reports reported reporting say
    told tell tells today week day latest exclusive breaking photo photos picture pictures
    analysis opinion review via get gets got make makes made take takes took see sees saw
    look looks could may might must amid still yet back just here how what why now inc
    co corp company ltd plc
    """.split()
)

Vector = dict[str, float]


def group_articles(articles: Sequence[Article]) -> list[list[Article]]:
    """Articles about the same event, grouped; groups and their articles in a fixed order.

    A story's coverage never pauses for longer than SAME_STORY_WINDOW, and no story holds
    two articles whose topic sets are both non-empty and disjoint. Deterministic whatever
    the input order: articles are put in publication order (then id) first, and every tie
    is broken by that order.
    """
    ordered = sorted(articles, key=_order_key)
    words = [_article_words(article) for article in ordered]
    heads, bags = [head for head, _ in words], [bag for _, bag in words]
    groups = [[number] for number in range(len(ordered))]
    for _ in range(2):  # by articles, then by the first pass's groups
        groups = _Merger(ordered, heads, _vectors(bags, groups), groups).run()
    return [[ordered[number] for number in sorted(group)] for group in sorted(groups, key=min)]


def _order_key(article: Article) -> tuple[datetime, str, str, str, str, str]:
    return (article.published, article.id, article.guid, article.url, article.title, article.text)


def _terms(text: str) -> list[str]:
    """Content words of a text: lower case, light stemming, no stopwords or filler."""
    text = _ACRONYM.sub(lambda match: match.group().replace(".", ""), text)  # U.S. -> us
    words = _TOKEN.findall(_POSSESSIVE.sub("", text).lower())
    return [_stem(w) for w in words if w not in STOPWORDS and w not in _FILLER and _telling(w)]


def _telling(word: str) -> bool:
    # Single letters are initials or debris; short bare numbers are counters ("UPDATE 2").
    return len(word) > 2 if word.isdigit() else len(word) > 1


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """Plural and -ing/-ed endings off, so "buys", "buying" and "bought" meet halfway."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            if word[-1] == word[-2] and word[-1] not in "lsz":  # "stopped" -> "stop"
                word = word[:-1]
            break
    return word


def _article_words(article: Article) -> tuple[frozenset[str], Counter[str]]:
    """Headline words, and the words to weigh: the headline's twice, then the lead's.

    The headline and lead carry the event; the rest of the body wanders.
    """
    title = _terms(article.title)
    lead = _terms((article.standfirst or article.text)[:LEAD_CHARS])
    if lead[: len(title)] == title:  # headline-only items repeat the headline as text
        lead = lead[len(title) :]
    return frozenset(title or lead), Counter(title + title + lead)


def _vectors(bags: Sequence[Counter[str]], groups: Sequence[list[int]]) -> list[Vector]:
    """Each article's weightiest words: sublinear tf times inverse frequency over groups.

    With one group per article this is plain TF-IDF. Vectors have unit length.
    """
    frequency: Counter[str] = Counter()
    for group in groups:
        frequency.update({word for number in group for word in bags[number]})
    total = len(groups) + 1
    vectors = []
    for bag in bags:
        weights = {
            word: (1 + math.log(count)) * (1 + math.log(total / (frequency[word] + 1)))
            for word, count in bag.items()
        }
        kept = _heaviest(weights, KEPT_WORDS)
        norm = math.sqrt(sum(weights[word] ** 2 for word in kept)) or 1.0
        vectors.append({word: weights[word] / norm for word in kept})
    return vectors


class _Merger:
    """Agglomerative grouping on centroid cosine: the most similar pair of groups first.

    Candidates come from an inverted index of each group's weightiest words, so the work
    grows with the number of plausible pairs rather than with the square of the articles.
    """

    def __init__(
        self,
        articles: Sequence[Article],
        heads: Sequence[frozenset[str]],
        vectors: Sequence[Vector],
        groups: list[list[int]],
    ) -> None:
        self.members = {min(group): list(group) for group in groups}
        # the headline words of a group that is one article; None for larger groups
        self.heads = {key: heads[key] if len(g) == 1 else None for key, g in self.members.items()}
        self.sums = {key: _sum(vectors[n] for n in group) for key, group in self.members.items()}
        self.norms = {key: _norm(vector) for key, vector in self.sums.items()}
        self.version = dict.fromkeys(self.members, 0)
        self.spans = {key: _span(articles, group) for key, group in self.members.items()}
        self.topics = {key: _topic_sets(articles, group) for key, group in self.members.items()}
        self.index: dict[str, set[int]] = {}
        self.indexed: dict[int, list[str]] = {}
        self.queue: list[tuple[float, int, int, int, int]] = []

    def run(self) -> list[list[int]]:
        for key in sorted(self.members):
            self._offer(key)
        while self.queue:
            _, first, second, *versions = heapq.heappop(self.queue)
            # an entry is stale once either group has merged since it was queued
            if [self.version.get(first), self.version.get(second)] == versions:
                self._merge(first, second)
        return list(self.members.values())

    def _offer(self, key: int) -> None:
        """Queues each indexed group similar enough to join this one; then indexes it."""
        words = self.indexed[key] = _heaviest(self.sums[key], INDEXED_WORDS)
        for other in self._candidates(key, words):
            similarity = self._similarity(key, other)
            if similarity >= SAME_STORY_SIMILARITY:
                first, second = min(key, other), max(key, other)
                versions = self.version[first], self.version[second]
                heapq.heappush(self.queue, (-similarity, first, second, *versions))
        for word in words:
            self.index.setdefault(word, set()).add(key)

    def _candidates(self, key: int, words: list[str]) -> list[int]:
        """The indexed groups close in time that share the most of these words, and share
        them convincingly, in a fixed order."""
        shared = Counter(chain.from_iterable(self.index.get(word, ()) for word in words))
        least = min(2, len(words)) if self.heads[key] is not None else 1
        (start, end), spans = self.spans[key], self.spans
        window = SAME_STORY_WINDOW.total_seconds()
        nearby = [
            (count, other)
            for other, count in shared.items()
            if (count >= least or self.heads[other] is None)
            and max(start, spans[other][0]) - min(end, spans[other][1]) <= window
        ]
        return sorted(
            other
            for _, other in heapq.nlargest(CANDIDATES, nearby)
            if self._topics_agree(key, other)
            and self._convincing(key, other)
            and self._convincing(other, key)
        )

    def _convincing(self, lone: int, other: int) -> bool:
        """One word in common is chance: an article's headline must share two words with the
        other side (or its only word). Groups have already shown their words belong together.
        """
        head = self.heads[lone]
        return head is None or len(head & self.sums[other].keys()) >= min(2, len(head))

    def _similarity(self, key: int, other: int) -> float:
        small, large = sorted((self.sums[key], self.sums[other]), key=len)
        dot: float = sum(map(mul, small.values(), map(large.get, small, repeat(0.0))))
        return dot / (self.norms[key] * self.norms[other])

    def _topics_agree(self, key: int, other: int) -> bool:
        """Articles whose topic sets are both non-empty and disjoint never share a story."""
        return all(mine & theirs for mine in self.topics[key] for theirs in self.topics[other])

    def _merge(self, key: int, other: int) -> None:
        for number in (key, other):
            for word in self.indexed.pop(number):
                self.index[word].discard(number)
        self.members[key] += self.members.pop(other)
        del self.heads[other]
        self.heads[key] = None
        (start, end), (other_start, other_end) = self.spans[key], self.spans.pop(other)
        self.spans[key] = (min(start, other_start), max(end, other_end))
        self.topics[key] |= self.topics.pop(other)
        dot = self._dot_and_add(key, self.sums.pop(other))
        # |a + b|^2 = |a|^2 + |b|^2 + 2 a.b: no pass over the grown sum
        self.norms[key] = math.sqrt(self.norms[key] ** 2 + self.norms.pop(other) ** 2 + 2 * dot)
        del self.version[other]
        self.version[key] += 1
        self._offer(key)

    def _dot_and_add(self, key: int, vector: Vector) -> float:
        """Adds a vector into a group's sum; returns their dot product from before."""
        total, dot = self.sums[key], 0.0
        for word, weight in vector.items():
            old = total.get(word, 0.0)
            dot += old * weight
            total[word] = old + weight
        return dot


def _heaviest(vector: Vector, count: int) -> list[str]:
    if len(vector) <= count:
        return list(vector)
    return heapq.nlargest(count, vector, key=lambda word: (vector[word], word))


def _sum(vectors: Iterable[Vector]) -> Vector:
    total: Vector = {}
    for vector in vectors:
        for word, weight in vector.items():
            total[word] = total.get(word, 0.0) + weight
    return total


def _norm(vector: Vector) -> float:
    return math.sqrt(sum(weight * weight for weight in vector.values()))


def _span(articles: Sequence[Article], group: list[int]) -> tuple[float, float]:
    """First and last publication time, in seconds: compared for every candidate pair."""
    times = [articles[number].published.timestamp() for number in group]
    return min(times), max(times)


def _topic_sets(articles: Sequence[Article], group: list[int]) -> set[frozenset[str]]:
    """The group's distinct non-empty topic sets: an article without topics clashes with none."""
    return {frozenset(articles[n].topics) for n in group if articles[n].topics}
