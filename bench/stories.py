"""Time and quality of story grouping (digest.clustering.group_articles).

Speed: generated full articles (made-up words; stories of 1 to 40 related articles from
many outlets over a week) grouped at 1,000 / 10,000 / 50,000 articles, each size in a fresh
subprocess so its peak memory (ru_maxrss) is its own; with the growth ratios.
Quality: B-cubed precision/recall/F1 on ../shared/eval-dev/headlines.jsonl (headline,
publisher and time only), next to two baselines: the greedy centroid grouping digest.stories
used before (commit 3162978, similarity 0.35) and TF-IDF average-link; the spread of our F1
over random halves, 30% subsamples and single days; and the same headlines mixed with the
601 BBC headlines of bbc.jsonl as distractors (each its own story, at random times).
Prints figures, then one line of JSON. Usage: python bench/stories.py
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate, pairwise
from pathlib import Path
from typing import Any

from digest.clustering import group_articles
from digest.models import Article
from digest.sentences import content_words

EVAL_DEV = Path(__file__).resolve().parents[1].parent / "shared" / "eval-dev"
DATA = EVAL_DEV / "headlines.jsonl"
SIZES = (1_000, 10_000, 50_000)
TOPICS = ("world", "business", "technology", "science", "sport", "culture")
START = datetime(2026, 3, 2, tzinfo=UTC)
Grouper = Callable[[Sequence[Article]], list[list[Article]]]


class Words:
    """A made-up vocabulary: common words follow Zipf's law, story words are drawn rarer."""

    def __init__(self, rng: random.Random, size: int = 40_000) -> None:
        syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["ar", "el", "on", "ux"]
        words: set[str] = set()
        while len(words) < size:
            words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
        self.all = sorted(words)
        rng.shuffle(self.all)
        self.cumulative = list(accumulate(1 / (rank + 1) ** 1.05 for rank in range(size)))
        self.rng = rng

    def common(self, count: int) -> list[str]:
        return self.rng.choices(self.all, cum_weights=self.cumulative, k=count)

    def rare(self, count: int) -> list[str]:
        return self.rng.sample(self.all[2_000:], count)


def sentence(rng: random.Random, words: Words, event: list[str], length: int, share: float) -> str:
    chosen = [
        rng.choice(event) if rng.random() < share else words.common(1)[0] for _ in range(length)
    ]
    return " ".join(chosen).capitalize() + "."


def generated_articles(count: int, seed: int = 7) -> list[Article]:
    """Stories of 1 to 40 related articles (sizes heavy-tailed), spread over a week."""
    rng = random.Random(seed)
    words = Words(rng)
    outlets = [f"{words.rare(1)[0].title()} {kind}" for kind in ("Post", "Times", "News") * 70]
    articles: list[Article] = []
    story = 0
    while len(articles) < count:
        size = 1 if rng.random() < 0.6 else min(40, int(rng.paretovariate(1.2)) + 1)
        event, topic = words.rare(rng.randint(4, 8)), rng.choice(TOPICS)
        when = START + timedelta(hours=rng.uniform(0, 7 * 24))
        for _ in range(min(size, count - len(articles))):
            articles.append(generated_article(rng, words, event, topic, when, story, outlets))
        story += 1
    return articles


def generated_article(
    rng: random.Random,
    words: Words,
    event: list[str],
    topic: str,
    when: datetime,
    story: int,
    outlets: list[str],
) -> Article:
    title = sentence(rng, words, event, rng.randint(6, 11), 0.5).rstrip(".")
    paragraphs = [sentence(rng, words, event, rng.randint(15, 30), 0.25) for _ in range(2)]
    paragraphs += [sentence(rng, words, event, rng.randint(15, 30), 0.05) for _ in range(8)]
    number = rng.getrandbits(48)
    return Article(
        guid=f"{story}-{number}",
        url=f"https://example.com/{number}",
        title=title,
        text="\n\n".join(paragraphs[rng.random() < 0.5 :]),
        source=rng.choice(outlets),
        published=when + timedelta(hours=rng.uniform(0, 36)),
        topics=(topic,) if rng.random() < 0.8 else (),
        standfirst=paragraphs[0] if rng.random() < 0.5 else "",
        id=f"{story}-{number}",
    )


def measure_size(count: int) -> dict[str, float]:
    """In a fresh process: seconds and peak memory to group `count` generated articles."""
    articles = generated_articles(count)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    groups = group_articles(articles)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    story = {a.id: a.guid.split("-")[0] for a in articles}
    f1 = bcubed(groups, story)[2]
    return {
        "articles": count,
        "seconds": round(seconds, 2),
        "peak_mb": round(peak / 1024, 1),
        "grouping_mb": round((peak - before) / 1024, 1),
        "groups": len(groups),
        "synthetic_f1": round(f1, 3),
    }


def speed() -> list[dict[str, float]]:
    results = []
    for count in SIZES:
        child = subprocess.run(
            [sys.executable, __file__, "--size", str(count)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(child.stdout.splitlines()[-1]))
        print("  {articles:>6} articles: {seconds:6.2f} s, peak {peak_mb:6.1f} MB "
              "({grouping_mb:.1f} MB while grouping), {groups} groups, "
              "F1 on own labels {synthetic_f1}".format(**results[-1]), flush=True)  # fmt: skip
    return results


def bcubed(groups: Sequence[Sequence[Article]], story: dict[str, str]) -> tuple[float, ...]:
    """B-cubed precision, recall and F1: per article, averaged over articles."""
    group_of = {a.id: number for number, group in enumerate(groups) for a in group}
    group_size, story_size = Counter(group_of.values()), Counter(story.values())
    both = Counter((group_of[i], story[i]) for i in story)
    precision = sum(both[group_of[i], story[i]] / group_size[group_of[i]] for i in story)
    recall = sum(both[group_of[i], story[i]] / story_size[story[i]] for i in story)
    precision, recall = precision / len(story), recall / len(story)
    return precision, recall, 2 * precision * recall / (precision + recall)


def headline_articles(rows: Sequence[dict[str, Any]]) -> list[Article]:
    """Headline, publisher and time only: the topic label is not used."""
    return [
        Article(
            guid=row["id"],
            url=row["url"],
            title=row["headline"],
            text=row["headline"],
            source=row["publisher"],
            published=datetime.fromtimestamp(row["published_ms"] / 1000, UTC),
            id=row["id"],
        )
        for row in rows
    ]


def score(grouper: Grouper, rows: Sequence[dict[str, Any]]) -> tuple[float, ...]:
    story = {row["id"]: row["story"] for row in rows}
    return bcubed(grouper(headline_articles(rows)), story)


def old_centroid(articles: Sequence[Article]) -> list[list[Article]]:
    """The grouping digest.stories used before: each article, in time order, joins the group
    whose centroid is most similar if that reaches 0.35 (TF-IDF of title twice + lead)."""
    ordered = sorted(articles, key=lambda a: (a.published, a.id))
    documents = [content_words(f"{a.title} {a.title} {a.standfirst or a.text[:300]}")
                 for a in ordered]  # fmt: skip
    frequency = Counter(word for words in documents for word in set(words))
    groups: list[list[Article]] = []
    sums: list[dict[str, float]] = []
    for article, words in zip(ordered, documents, strict=True):
        vector = {
            w: c * math.log(1 + len(documents) / frequency[w]) for w, c in Counter(words).items()
        }
        best, best_score = -1, 0.35
        for number, total in enumerate(sums):
            if article.published - groups[number][-1].published > timedelta(days=7):
                continue
            similarity = _cosine(vector, total)
            if similarity >= best_score:
                best, best_score = number, similarity
        if best < 0:
            groups.append([])
            sums.append({})
        groups[best].append(article)
        for word, weight in vector.items():
            sums[best][word] = sums[best].get(word, 0.0) + weight
    return groups


def _cosine(first: dict[str, float], second: dict[str, float]) -> float:
    dot = sum(x * second.get(w, 0.0) for w, x in first.items())
    norms = math.sqrt(sum(x * x for x in first.values()) * sum(x * x for x in second.values()))
    return dot / norms if norms else 0.0


def average_link(threshold: float) -> Grouper:
    """TF-IDF average-link clustering: the reference method of the eval-dev README."""

    def grouper(articles: Sequence[Article]) -> list[list[Article]]:
        documents = [Counter(content_words(a.title)) for a in articles]
        frequency = Counter(word for document in documents for word in document)
        vectors = [_unit({w: c * math.log(len(documents) / frequency[w]) for w, c in d.items()})
                   for d in documents]  # fmt: skip
        groups = _average_link(vectors, threshold)
        return [[articles[number] for number in group] for group in groups]

    return grouper


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(x * x for x in vector.values()))
    return {w: x / norm for w, x in vector.items()} if norm else {}


def _average_link(vectors: list[dict[str, float]], threshold: float) -> list[list[int]]:
    """Exact average link: the Lance-Williams update on a full similarity table."""
    count = len(vectors)
    table = [[sum(x * v.get(w, 0.0) for w, x in u.items()) for v in vectors] for u in vectors]
    members = {n: [n] for n in range(count)}
    queue = [(-table[i][j], i, j) for i in range(count) for j in range(i + 1, count)]
    queue = [entry for entry in queue if -entry[0] >= threshold]
    heapq.heapify(queue)
    while queue:
        negative, i, j = heapq.heappop(queue)
        if i not in members or j not in members or table[i][j] != -negative:
            continue  # a merged group, or a similarity since updated
        size_i, size_j = len(members[i]), len(members[j])
        members[i] += members.pop(j)
        for k in members:
            if k != i:
                table[i][k] = table[k][i] = (size_i * table[i][k] + size_j * table[j][k]) / (
                    size_i + size_j
                )
                if table[i][k] >= threshold:
                    heapq.heappush(queue, (-table[i][k], min(i, k), max(i, k)))
    return list(members.values())


def subsets(rows: list[dict[str, Any]]) -> dict[str, list[list[dict[str, Any]]]]:
    """Random halves (10 splits), random 30% subsamples (10) and each day on its own."""
    found: dict[str, list[list[dict[str, Any]]]] = {"halves": [], "subsamples_30pct": []}
    for seed in range(10):
        shuffled = random.Random(seed).sample(rows, len(rows))
        half = len(rows) // 2
        found["halves"] += [shuffled[:half], shuffled[half:]]
        found["subsamples_30pct"].append(shuffled[: len(rows) * 3 // 10])
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        days[datetime.fromtimestamp(row["published_ms"] / 1000, UTC).date().isoformat()].append(row)
    found.update({f"day_{day}": [days[day]] for day in sorted(days)})
    return found


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def quality() -> dict[str, Any]:
    rows = read_jsonl(DATA)
    best = max((score(average_link(t / 100), rows)[2], t / 100) for t in range(1, 11))
    methods: dict[str, Grouper] = {
        "ours": group_articles,
        "old_centroid_0.35": old_centroid,
        "average_link_0.06": average_link(0.06),  # about the README's reference figure
        f"average_link_{best[1]}_best_here": average_link(best[1]),  # tuned on this very file
    }
    figures: dict[str, Any] = {}
    for heading, part in (("headlines", rows), ("with_distractors", with_distractors(rows))):
        print(f"  {heading} ({len(part)} items):")
        figures[heading] = {}
        for name, grouper in methods.items():
            precision, recall, f1 = score(grouper, part)
            figures[heading][name] = {"P": round(precision, 3), "R": round(recall, 3),
                                      "F1": round(f1, 3)}  # fmt: skip
            print(f"    {name:<28} P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}", flush=True)
    figures["ours_stability"] = stability(rows)
    return figures


def with_distractors(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows plus every BBC headline (2004-05) as a story of its own, at random times."""
    rng, times = random.Random(1), [row["published_ms"] for row in rows]
    return rows + [
        {"id": f"bbc-{row['id']}", "headline": row["headline"], "url": "", "publisher": "BBC",
         "published_ms": rng.randint(min(times), max(times)), "story": f"bbc-{row['id']}"}
        for row in read_jsonl(EVAL_DEV / "bbc.jsonl")
    ]  # fmt: skip


def stability(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    spread = {}
    for name, parts in subsets(rows).items():
        scores = [score(group_articles, part)[2] for part in parts]
        spread[name] = {
            "min_F1": round(min(scores), 3),
            "mean_F1": round(sum(scores) / len(scores), 3),
        }
        print(f"  ours on {name:<18} ({len(parts):>2} runs): F1 min {min(scores):.3f}, "
              f"mean {sum(scores) / len(scores):.3f}", flush=True)  # fmt: skip
    return spread


def growth(results: list[dict[str, float]]) -> dict[str, float]:
    ratios = {}
    for small, large in pairwise(results):
        label = f"{int(small['articles'])}_to_{int(large['articles'])}"
        ratios[f"time_{label}"] = round(large["seconds"] / small["seconds"], 2)
        ratios[f"peak_memory_{label}"] = round(large["peak_mb"] / small["peak_mb"], 2)
        ratios[f"grouping_memory_{label}"] = round(
            large["grouping_mb"] / max(small["grouping_mb"], 0.1), 2
        )
        ratios[f"size_{label}"] = large["articles"] / small["articles"]
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # one timing, in a child
    arguments = parser.parse_args()
    if arguments.size:
        print(json.dumps(measure_size(arguments.size)))
        return
    print("Grouping generated articles (a fresh process per size):")
    results = speed()
    ratios = growth(results)
    print("  growth: " + ", ".join(f"{k} x{v}" for k, v in ratios.items()))
    figures: dict[str, Any] = {"speed": results, "growth": ratios}
    if DATA.is_file():
        print(f"Quality on {DATA.name} (B-cubed; headline, publisher and time only):")
        figures["quality"] = quality()
    else:
        print(f"Quality skipped: {DATA} not found (it sits beside the repository).")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
