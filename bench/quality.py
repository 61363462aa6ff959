"""Quality of the digest's own methods on labelled public data, next to published baselines.

Runs the same summariser, topic assigner and story clusterer the digest uses on a folder
in the layout of ../shared/eval-dev (bbc.jsonl, headlines.jsonl, topics.json) and prints:
ROUGE-1/2/L F1 of three-sentence summaries next to lead-3 and LexRank (sumy); B-cubed
precision, recall and F1 of the story clusters; topic accuracy. The last line is JSON.
Usage: python bench/quality.py [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rouge_score import rouge_scorer
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.utils import get_stop_words

from digest.clustering import group_articles
from digest.models import Article
from digest.sentences import split_sentences
from digest.summarise import WordRarity, summarise
from digest.topics import TopicAssigner, TopicProfile

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-dev"
SENTENCES = 3
Summariser = Callable[[dict[str, Any]], str]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def ours(rows: Sequence[dict[str, Any]]) -> Summariser:
    """Our summariser, with word rarity learnt from the articles at hand, as in a digest."""
    background = WordRarity(row["text"] for row in rows)

    def summarise_row(row: dict[str, Any]) -> str:
        article = Article(guid=row["id"], url="", title=row["headline"], text=row["text"],
                          source="bbc", published=datetime.now(UTC))  # fmt: skip
        return summarise(article, SENTENCES, max_chars=100_000, background=background)

    return summarise_row


def lead3(row: dict[str, Any]) -> str:
    return " ".join(split_sentences(row["text"])[:SENTENCES])


class _Words:
    """Lets sumy use our sentence splitter: no NLTK data download needed."""

    language = "english"

    def to_words(self, sentence: str) -> list[str]:
        return re.findall(r"\w+", sentence)

    def to_sentences(self, paragraph: str) -> list[str]:
        return split_sentences(paragraph)


def lexrank() -> Summariser:
    summarizer = LexRankSummarizer(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    words = _Words()

    def summarise_row(row: dict[str, Any]) -> str:
        sentences = [Sentence(s, words) for s in split_sentences(row["text"])]
        document = ObjectDocumentModel([Paragraph(sentences)])
        return " ".join(str(s) for s in summarizer(document, SENTENCES))

    return summarise_row


def rouge(rows: Sequence[dict[str, Any]], method: Summariser) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        for name, score in scorer.score(row["reference"], method(row)).items():
            totals[name] += score.fmeasure
    return {name: round(total / len(rows), 4) for name, total in totals.items()}


def topic_accuracy(rows: Sequence[dict[str, Any]], descriptions: dict[str, str]) -> float:
    """Even positions are the tagged articles to learn from; odd ones are assigned."""
    profiles = [TopicProfile(name, text) for name, text in descriptions.items()]
    tagged = [(f"{r['headline']}\n\n{r['text']}", r["topic"]) for r in rows[0::2]]
    assigner = TopicAssigner.train(profiles, tagged)
    tests = rows[1::2]
    right = sum(assigner.assign(f"{r['headline']}\n\n{r['text']}") == r["topic"] for r in tests)
    return round(right / len(tests), 4)


def bcubed(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    articles = [
        Article(guid=r["id"], url=r["url"], title=r["headline"], text=r["headline"],
                source=r["publisher"], id=r["id"],
                published=datetime.fromtimestamp(r["published_ms"] / 1000, UTC))
        for r in rows
    ]  # fmt: skip
    cluster_of = {a.id: n for n, group in enumerate(group_articles(articles)) for a in group}
    return bcubed_scores(cluster_of, {r["id"]: r["story"] for r in rows})


def bcubed_scores(predicted: dict[str, int], gold: dict[str, str]) -> dict[str, float]:
    members: dict[int, set[str]] = defaultdict(set)
    truth: dict[str, set[str]] = defaultdict(set)
    for item in gold:
        members[predicted[item]].add(item)
        truth[gold[item]].add(item)
    precision = recall = 0.0
    for item in gold:
        mine, theirs = members[predicted[item]], truth[gold[item]]
        both = len(mine & theirs)
        precision += both / len(mine)
        recall += both / len(theirs)
    p, r = precision / len(gold), recall / len(gold)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    data = parser.parse_args().data
    if not (data / "bbc.jsonl").is_file():
        raise SystemExit(f"{data}: no bbc.jsonl here; give --data a folder in the eval-dev layout.")
    bbc = read_jsonl(data / "bbc.jsonl")
    headlines = read_jsonl(data / "headlines.jsonl")
    descriptions = json.loads((data / "topics.json").read_text(encoding="utf-8"))["bbc"]
    start = time.perf_counter()
    summary = {
        "ours": rouge(bbc, ours(bbc)),
        "lead3": rouge(bbc, lead3),
        "lexrank": rouge(bbc, lexrank()),
    }
    stories = bcubed(headlines)
    accuracy = topic_accuracy(bbc, descriptions)
    figures: dict[str, float | int] = {"articles": len(bbc), "headlines": len(headlines)}
    for method, suffix in (("ours", ""), ("lead3", "_lead3"), ("lexrank", "_lexrank")):
        for metric, value in summary[method].items():
            figures[f"{metric}{suffix}"] = value
    for baseline in ("lead3", "lexrank"):
        ratio = summary["ours"]["rouge2"] / summary[baseline]["rouge2"]
        figures[f"rouge2_vs_{baseline}"] = round(ratio, 3)
    figures.update({f"bcubed_{name}": value for name, value in stories.items()})
    figures["topic_accuracy"] = accuracy
    figures["seconds"] = round(time.perf_counter() - start, 1)
    for name, value in figures.items():
        print(f"{name:24} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
