"""Extractive summaries: whole sentences, never boilerplate, within a length budget."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from digest.models import Article
from digest.sentences import content_words, split_sentences

_BOILERPLATE = re.compile(
    r"^(discuss|read more|click here|share this|sign up|subscribe|photo:|image:|picture:|"
    r"by [A-Z][\w.'-]+( [A-Z][\w.'-]+)*$|follow us|related:|advertisement)",
    re.IGNORECASE,
)


class WordRarity:
    """How rare each word is across a body of articles (inverse document frequency).

    The most telling sentences of one article are those nearest its centroid once words
    that every article uses are weighed down; a background of many articles knows which.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.documents = 0
        self.frequency: Counter[str] = Counter()
        for text in texts:
            self.documents += 1
            self.frequency.update(set(content_words(text)))

    def weight(self, word: str) -> float:
        return math.log(1 + self.documents / (self.frequency.get(word, 0) or 1))


def summarise(
    article: Article,
    max_sentences: int = 3,
    max_chars: int = 420,
    background: WordRarity | None = None,
) -> str:
    """Two to `max_sentences` sentences: the standfirst first, then the most central ones."""
    lead = [s for s in split_sentences(article.standfirst) if not _is_boilerplate(s)]
    body = [s for s in split_sentences(article.text) if not _is_boilerplate(s)]
    if len(lead) >= 2:
        chosen = lead[:max_sentences]
    else:
        wanted = max(2, max_sentences) if not lead else 2
        rest = [s for s in body if s not in lead]
        picks = central_sentences(rest, wanted - len(lead), background)
        chosen = lead + picks
    return _fit(chosen, max_chars)


def central_sentences(
    sentences: list[str], count: int, background: WordRarity | None = None
) -> list[str]:
    """The `count` sentences nearest the TF-IDF centroid of all of them, in text order.

    Word rarity comes from `background` when given, else from the sentences themselves.
    """
    if count <= 0 or not sentences:
        return []
    words = [content_words(s) for s in sentences]
    rarity = background or WordRarity(sentences)
    vectors = [{w: c * rarity.weight(w) for w, c in Counter(ws).items()} for ws in words]
    centroid: Counter[str] = Counter()
    for vector in vectors:
        centroid.update(vector)
    scores = [_cosine(vector, centroid) for vector in vectors]
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:count]
    return [sentences[i] for i in sorted(ranked)]


def _cosine(a: dict[str, float], b: Counter[str] | dict[str, float]) -> float:
    dot = sum(weight * b.get(word, 0.0) for word, weight in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _is_boilerplate(sentence: str) -> bool:
    return bool(_BOILERPLATE.match(sentence.strip())) or sentence.startswith("*")


def _fit(sentences: list[str], max_chars: int) -> str:
    """Drop sentences from the end until the summary fits; keep at least the first whole."""
    kept = list(sentences)
    while len(kept) > 1 and len(" ".join(kept)) > max_chars:
        kept.pop()
    return " ".join(kept)
