"""Extractive summaries: whole sentences, never boilerplate, within a length budget."""

from __future__ import annotations

import math
import re
from collections import Counter

from digest.models import Article
from digest.sentences import content_words, split_sentences

_BOILERPLATE = re.compile(
    r"^(discuss|read more|click here|share this|sign up|subscribe|photo:|image:|picture:|"
    r"by [A-Z][\w.'-]+( [A-Z][\w.'-]+)*$|follow us|related:|advertisement)",
    re.IGNORECASE,
)


def summarise(article: Article, max_sentences: int = 3, max_chars: int = 420) -> str:
    """Two to `max_sentences` sentences: the standfirst first, then the most central ones."""
    lead = [s for s in split_sentences(article.standfirst) if not _is_boilerplate(s)]
    body = [s for s in split_sentences(article.text) if not _is_boilerplate(s)]
    if len(lead) >= 2:
        chosen = lead[:max_sentences]
    else:
        wanted = max(2, max_sentences) if not lead else 2
        picks = central_sentences([s for s in body if s not in lead], wanted - len(lead))
        chosen = lead + picks
    return _fit(chosen, max_chars)


def central_sentences(sentences: list[str], count: int) -> list[str]:
    """The `count` sentences nearest the TF-IDF centroid of all of them, in text order."""
    if count <= 0 or not sentences:
        return []
    vectors = _tfidf_vectors([content_words(s) for s in sentences])
    centroid: Counter[str] = Counter()
    for vector in vectors:
        centroid.update(vector)
    scores = [_cosine(vector, centroid) for vector in vectors]
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:count]
    return [sentences[i] for i in sorted(ranked)]


def _tfidf_vectors(documents: list[list[str]]) -> list[dict[str, float]]:
    frequency = Counter(word for words in documents for word in set(words))
    total = len(documents)
    return [
        {w: c * math.log(1 + total / frequency[w]) for w, c in Counter(words).items()}
        for words in documents
    ]


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
