"""Sentence splitting and word tokens, shared by summaries and story grouping."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no", "vs", "etc", "gen", "gov",
    "sen", "rep", "lt", "col", "capt", "sgt", "inc", "ltd", "co", "corp", "jan", "feb",
    "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e",
    "approx", "dept", "est", "fig", "mt", "rev",
}  # fmt: skip
_INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me more most my myself no nor not now of off on once only
    or other our ours ourselves out over own said same say says she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up us very was we were what when where which while who whom why will with
    would you your yours yourself yourselves new one two year years
    """.split()
)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, paragraph breaks respected, common abbreviations not split."""
    sentences: list[str] = []
    for paragraph in text.split("\n\n"):
        sentences.extend(_split_paragraph(" ".join(paragraph.split())))
    return [s for s in sentences if s]


def _split_paragraph(paragraph: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        before = paragraph[start : match.start()].rsplit(" ", 1)[-1].lower().rstrip(".")
        if before in _ABBREVIATIONS or _INITIALS.fullmatch(before):
            continue  # "Dr. Okafor", "J. Smith", "U.S. forces"
        pieces.append(paragraph[start : match.end()].strip())
        start = match.end()
    pieces.append(paragraph[start:].strip())
    return pieces


def content_words(text: str) -> list[str]:
    """Lower-case word tokens without stopwords, with a light plural/suffix stemming."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def _stem(word: str) -> str:
    word = word.replace("’", "'").removesuffix("'s")
    if len(word) <= 4 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    return word.removesuffix("s")
