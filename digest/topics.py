"""Assign one of the configured topics to an article nobody tagged.

Each topic is a TF-IDF centroid of its tagged articles plus a pseudo-article made of its
name and description, so topics work from their descriptions alone and get better as
tagged articles accumulate. Once two topics have tagged articles, the centroids are
refined by an averaged perceptron that asks for a margin on every tagged article scored
as if it were unseen (leave-one-out). Topics without tagged articles have their scores
mapped onto the scale of the others, so a sparse description can still beat a rich
centroid.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import mul

from digest.sentences import content_words

Vector = dict[str, float]

# Cosine margin the refinement asks for; leave-one-out scoring keeps it honest whatever
# the number of tagged articles, and accuracy is flat for margins 0.05-0.2.
_MARGIN = 0.1
_STEP = 0.1
_EPOCHS = 5
_SEED = 0  # a fixed shuffle keeps training deterministic


@dataclass(frozen=True)
class TopicProfile:
    """A configured topic: its name and a one-line description (may be empty)."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class _Corpus:
    """Tagged articles as TF-IDF vectors, with the weighting that made them."""

    idf: dict[str, float]
    unknown_idf: float
    vectors: list[Vector]
    labels: list[str]

    def vector(self, words: Sequence[str]) -> Vector:
        return _unit(_tfidf(words, self.idf, self.unknown_idf))


@dataclass(frozen=True)
class _Calibration:
    """Maps a topic's raw score onto the scale shared by topics with tagged articles."""

    mean: float
    spread: float
    target_mean: float
    target_spread: float

    def apply(self, score: float) -> float:
        return self.target_mean + self.target_spread * (score - self.mean) / self.spread


class TopicAssigner:
    """Scores texts against topic weight vectors; build one with `TopicAssigner.train`."""

    def __init__(
        self,
        corpus: _Corpus,
        weights: dict[str, Vector],
        calibrations: dict[str, _Calibration],
        preference: list[str],
    ) -> None:
        self._corpus = corpus
        self._weights = weights
        self._calibrations = calibrations
        self._preference = preference  # tie-break order: most tagged first

    @classmethod
    def train(
        cls, topics: Sequence[TopicProfile], tagged: Iterable[tuple[str, str]]
    ) -> TopicAssigner:
        """Learn from topic names, descriptions and (text, topic name) tagged pairs.

        Tagged articles whose topic is not configured are ignored.
        """
        profiles = _unique(topics)
        names = [p.name for p in profiles]
        pairs = [(content_words(text), name) for text, name in tagged if name in names]
        pseudo = {p.name: content_words(f"{p.name} {p.description}") for p in profiles}
        corpus = _build_corpus(pairs, list(pseudo.values()))
        sums = _class_sums(corpus, {n: corpus.vector(w) for n, w in pseudo.items()})
        centroids = {name: _unit(dict(vector)) for name, vector in sums.items()}
        counts = Counter(corpus.labels)
        weights = _refine(corpus, sums, centroids, [n for n in names if counts[n]])
        calibrations = _calibrate(corpus, centroids, names)
        preference = sorted(names, key=lambda n: -counts[n])
        return cls(corpus, weights, calibrations, preference)

    def scores(self, text: str) -> dict[str, float]:
        """A score per topic, higher meaning more likely; comparable within one assigner."""
        words = content_words(text)
        if not any(w in self._corpus.idf for w in words):
            # Nothing to go on; calibrated zeros would differ, so leave it to the tie-break.
            return dict.fromkeys(self._weights, 0.0)
        vector = self._corpus.vector(words)
        raw = {name: _dot(vector, w) for name, w in self._weights.items()}
        for name, calibration in self._calibrations.items():
            raw[name] = calibration.apply(raw[name])
        return raw

    def assign(self, text: str) -> str | None:
        """The most likely topic name; None only when there are no topics at all."""
        if not self._preference:
            return None
        scores = self.scores(text)
        return max(self._preference, key=lambda name: scores[name])


def _unique(topics: Sequence[TopicProfile]) -> list[TopicProfile]:
    """Topics in configured order, the first profile winning when a name repeats."""
    first: dict[str, TopicProfile] = {}
    for topic in topics:
        first.setdefault(topic.name, topic)
    return list(first.values())


def _build_corpus(pairs: list[tuple[list[str], str]], pseudo: list[list[str]]) -> _Corpus:
    documents = [words for words, _ in pairs] + pseudo
    frequency: Counter[str] = Counter()
    for words in documents:
        frequency.update(set(words))
    total = len(documents)
    idf = {w: math.log((total + 1) / (df + 1)) + 1 for w, df in frequency.items()}
    unknown_idf = math.log(total + 1) + 1
    vectors = [_unit(_tfidf(words, idf, unknown_idf)) for words, _ in pairs]
    return _Corpus(idf, unknown_idf, vectors, [name for _, name in pairs])


def _tfidf(words: Sequence[str], idf: dict[str, float], unknown_idf: float) -> Vector:
    # Sublinear term frequency: a word's tenth mention says less than its first.
    return {w: (1 + math.log(n)) * idf.get(w, unknown_idf) for w, n in Counter(words).items()}


def _unit(vector: Vector) -> Vector:
    length = math.sqrt(sum(v * v for v in vector.values()))
    return {w: v / length for w, v in vector.items()} if length else vector


def _dot(vector: Vector, weights: Vector) -> float:
    # map/sum keep the loop in C: this is where training and scoring spend their time.
    total: float = sum(map(mul, vector.values(), map(weights.get, vector, repeat(0.0))), 0.0)
    return total


def _class_sums(corpus: _Corpus, pseudo: dict[str, Vector]) -> dict[str, Vector]:
    """Per topic, the sum of its tagged vectors and its pseudo-article (worth one article)."""
    sums: dict[str, Vector] = {name: dict(vector) for name, vector in pseudo.items()}
    for vector, label in zip(corpus.vectors, corpus.labels, strict=True):
        _add(sums[label], vector, 1.0)
    return sums


def _add(target: Vector, vector: Vector, factor: float) -> None:
    for w, v in vector.items():
        target[w] = target.get(w, 0.0) + factor * v


def _refine(
    corpus: _Corpus, sums: dict[str, Vector], centroids: dict[str, Vector], learned: list[str]
) -> dict[str, Vector]:
    """Centroids nudged by an averaged perceptron until tagged articles clear the margin.

    Only topics with tagged articles take part; the others keep their description centroid.
    """
    weights = {name: dict(vector) for name, vector in centroids.items()}
    if len(learned) < 2:
        return weights
    offsets = _leave_one_out_offsets(corpus, sums)
    averaged: dict[str, Vector] = {name: {} for name in learned}
    order = list(range(len(corpus.vectors)))
    shuffle = random.Random(_SEED).shuffle
    step = 1
    for _ in range(_EPOCHS):
        shuffle(order)
        mistakes = 0
        for i in order:
            rival = _rival(corpus.vectors[i], corpus.labels[i], offsets[i], weights, learned)
            if rival is not None:
                mistakes += 1
                _update(weights, averaged, corpus.vectors[i], (corpus.labels[i], rival), step)
            step += 1
        if not mistakes:
            break
    for name in learned:
        _add(weights[name], averaged[name], -1.0 / step)
    return weights


def _leave_one_out_offsets(corpus: _Corpus, sums: dict[str, Vector]) -> list[float]:
    """How much an article's own-topic score drops once it is taken out of the centroid.

    Without this, every article scores high against a centroid it helped build, and
    with few articles per topic the margin would never be tested.
    """
    squares = {name: sum(v * v for v in vector.values()) for name, vector in sums.items()}
    offsets = []
    for vector, label in zip(corpus.vectors, corpus.labels, strict=True):
        overlap, own = _dot(vector, sums[label]), _dot(vector, vector)
        square = squares[label]
        rest = square - 2 * overlap + own
        without = (overlap - own) / math.sqrt(rest) if rest > 1e-12 else 0.0
        offsets.append(without - overlap / math.sqrt(square))
    return offsets


def _rival(
    vector: Vector, label: str, offset: float, weights: dict[str, Vector], learned: list[str]
) -> str | None:
    """The best other topic when it comes within the margin of the article's own."""
    own = _dot(vector, weights[label]) + offset
    others = [(_dot(vector, weights[name]), name) for name in learned if name != label]
    best, rival = max(others)
    return rival if own - best < _MARGIN else None


def _update(
    weights: dict[str, Vector],
    averaged: dict[str, Vector],
    vector: Vector,
    pair: tuple[str, str],
    step: int,
) -> None:
    # `averaged` accumulates step-weighted updates, so weights - averaged / steps is the
    # mean of the weights over all steps: the usual averaged-perceptron bookkeeping.
    for name, sign in zip(pair, (_STEP, -_STEP), strict=True):
        _add(weights[name], vector, sign)
        _add(averaged[name], vector, sign * step)


def _calibrate(
    corpus: _Corpus, centroids: dict[str, Vector], names: list[str]
) -> dict[str, _Calibration]:
    """Scale maps for topics without tagged articles, from scores of articles not theirs.

    A centroid of a few description words scores far lower than one built from many
    articles; standardising against articles of other topics puts both on one footing.
    Plain centroids are the yardstick: refined weights were fit to these very articles
    and would understate how high other topics score on new ones.
    """
    tagged = set(corpus.labels)
    untagged = [n for n in names if n not in tagged]
    if not tagged or not untagged:
        return {}
    stats = {name: _background(corpus, centroids[name], name) for name in names}
    # A topic holding every tagged article has no background to measure a scale on.
    yardsticks = [stats[n] for n in names if n in tagged and stats[n][1] > 0]
    if not yardsticks:
        return {}
    target_mean = sum(mean for mean, _ in yardsticks) / len(yardsticks)
    target_spread = sum(spread for _, spread in yardsticks) / len(yardsticks)
    return {
        name: _Calibration(*stats[name], target_mean, target_spread)
        for name in untagged
        if stats[name][1] > 0  # no tagged article shares a word with it: leave it raw
    }


def _background(corpus: _Corpus, weights: Vector, name: str) -> tuple[float, float]:
    """Mean and standard deviation of a topic's scores over articles tagged otherwise."""
    pairs = zip(corpus.vectors, corpus.labels, strict=True)
    others = [_dot(vector, weights) for vector, label in pairs if label != name]
    if not others:
        return 0.0, 0.0
    mean = sum(others) / len(others)
    return mean, math.sqrt(sum((s - mean) ** 2 for s in others) / len(others))
