"""Time the collector on generated data: local RSS files and a folder of article files.

Baseline, run side by side: bare `feedparser.parse` over the same feed bytes, the floor
any feed pipeline pays before normalising, sanitising and storing. Every phase runs in a
fresh process (this script with a hidden `--phase` flag) so its peak memory is its own.
Prints figures, then one line of JSON.
Usage: python bench/collect.py
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

from digest.collect import collect
from digest.config import load_settings
from digest.sourcelist import SourceConfig, SourceList, Topic
from digest.store import Store

FEEDS = 20
ITEMS_PER_FEED = 500
ARTICLES = 10_000
TOPICS = ("world", "business", "technology", "science", "sport", "culture")
SYLLABLES = (
    "ka lo mi ren tas vo quel dri sun pa tor bel nis gar fe zu mon ri sa len op ith ur cal"
).split()
Figures = dict[str, float]


@dataclass
class Prose:
    """Made-up words strung into sentences, so no real text ends up in the data."""

    rng: random.Random
    words: list[str]

    def sentence(self) -> str:
        words = [self.rng.choice(self.words) for _ in range(self.rng.randint(8, 16))]
        return " ".join(words).capitalize() + "."

    def headline(self, number: int) -> str:
        words = [self.rng.choice(self.words).title() for _ in range(self.rng.randint(5, 8))]
        return " ".join(words) + f" {number}"

    def description_html(self, link: str) -> str:
        first, *rest = (self.sentence() for _ in range(self.rng.randint(2, 4)))
        anchor = f'<a href="{link}#more">{self.rng.choice(self.words)}</a>'
        return f"<p>{first} <strong>{anchor}</strong></p><p>{' '.join(rest)}</p>"


def make_prose(seed: int) -> Prose:
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < 2000:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))))
    return Prose(rng, sorted(words))


def feed_item(prose: Prose, feed: int, number: int, now: datetime) -> str:
    link = f"https://example.com/feed{feed:02d}/story-{number:04d}"
    published = now - timedelta(seconds=30 * (feed * ITEMS_PER_FEED + number))
    description = escape(prose.description_html(link))
    return (
        f"<item><title>{prose.headline(number)}</title><link>{link}</link>"
        f'<guid isPermaLink="true">{link}</guid><pubDate>{format_datetime(published)}</pubDate>'
        f"<category>{TOPICS[number % len(TOPICS)].title()}</category>"
        f"<description>{description}</description></item>"
    )


def write_feed(path: Path, prose: Prose, feed: int, now: datetime) -> None:
    items = "\n".join(feed_item(prose, feed, n, now) for n in range(ITEMS_PER_FEED))
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Bench Feed {feed}</title><link>https://example.com/feed{feed:02d}/</link>"
        f"<description>Generated entries</description>\n{items}\n</channel></rss>\n",
        encoding="utf-8",
    )


def article_text(prose: Prose, number: int) -> str:
    topic = TOPICS[number % len(TOPICS)].title()
    standfirst = f"{prose.sentence()} {prose.sentence()}"
    body = "\n\n".join(" ".join(prose.sentence() for _ in range(3)) for _ in range(4))
    return f"{topic}\n\n{prose.headline(number)}\n\n{standfirst}\nBench Wire\n\n{body}\n\nDiscuss\n"


def write_data(root: Path, now: datetime) -> None:
    prose = make_prose(7)
    (root / "feeds").mkdir()
    for feed in range(FEEDS):
        write_feed(root / "feeds" / f"feed{feed:02d}.xml", prose, feed, now)
    (root / "articles").mkdir()
    for number in range(ARTICLES):
        path = root / "articles" / f"a{number:05d}.txt"
        path.write_text(article_text(prose, number), encoding="utf-8")


def feed_paths(root: Path) -> list[Path]:
    return sorted((root / "feeds").glob("*.xml"))


def source_list(root: Path, *, feeds: bool, folder: bool) -> SourceList:
    topics = tuple(Topic(name, name.title()) for name in TOPICS)
    paths = feed_paths(root) if feeds else []
    sources = [SourceConfig(path.stem, "feed", str(path)) for path in paths]
    if folder:
        sources.append(SourceConfig("Bench Folder", "folder", str(root / "articles")))
    return SourceList(topics=topics, sources=tuple(sources))


def peak_mb() -> float:
    """This process's peak resident memory; ru_maxrss is in KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_collect(sources: SourceList, db: Path, now: datetime, store: Store) -> Figures:
    settings = load_settings(None, {"DIGEST_DATABASE": str(db)})
    start = time.perf_counter()
    report = collect(sources, store, settings, now)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "articles": report.total_articles,
        "new": report.new_articles,
        "errors": len(report.errors),
    }


def collect_fresh(sources: SourceList, db: Path) -> Figures:
    store = Store(db)
    try:
        return timed_collect(sources, db, datetime.now(UTC), store)
    finally:
        store.close()


def phase_feedparser(root: Path) -> Figures:
    blobs = [path.read_bytes() for path in feed_paths(root)]
    start = time.perf_counter()
    entries = sum(len(feedparser.parse(blob).entries) for blob in blobs)
    return {"seconds": time.perf_counter() - start, "articles": entries}


def phase_feeds(root: Path) -> Figures:
    return collect_fresh(source_list(root, feeds=True, folder=False), root / "feeds.db")


def phase_folder(root: Path) -> Figures:
    return collect_fresh(source_list(root, feeds=False, folder=True), root / "folder.db")


def phase_recollect(root: Path) -> Figures:
    """Collect everything into a fresh store, then again an hour later with nothing changed."""
    sources, db = source_list(root, feeds=True, folder=True), root / "all.db"
    store, now = Store(db), datetime.now(UTC)
    try:
        first = timed_collect(sources, db, now, store)
        again = timed_collect(sources, db, now + timedelta(hours=1), store)
    finally:
        store.close()
    return {**again, "first_seconds": first["seconds"], "first_new": first["new"]}


PHASES: dict[str, Callable[[Path], Figures]] = {
    "feedparser": phase_feedparser,
    "feeds": phase_feeds,
    "folder": phase_folder,
    "recollect": phase_recollect,
}


def run_phase(name: str, root: Path) -> Figures:
    """Run one phase in a fresh interpreter and read back its figures."""
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", name, str(root)]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return dict(json.loads(done.stdout.splitlines()[-1]))


def phase_main(name: str, root: Path) -> None:
    start_mb = peak_mb()
    figures = PHASES[name](root)
    print(json.dumps({**figures, "start_mb": start_mb, "peak_mb": peak_mb()}))


def summarise(runs: dict[str, Figures], generate_s: float) -> dict[str, object]:
    base, feeds, folder, again = (runs[name] for name in PHASES)
    base_rate = base["articles"] / base["seconds"]
    feed_rate = feeds["articles"] / feeds["seconds"]
    ratio = feed_rate / base_rate
    return {
        "feed_entries": int(base["articles"]),
        "folder_articles": ARTICLES,
        "generate_data_s": round(generate_s, 2),
        "feedparser_s": round(base["seconds"], 2),
        "feedparser_entries_per_s": round(base_rate, 1),
        "pipeline_feeds_s": round(feeds["seconds"], 2),
        "pipeline_feed_entries_per_s": round(feed_rate, 1),
        "pipeline_vs_feedparser_ratio": round(ratio, 3),
        "ratio_meets_target_0_5": ratio >= 0.5,
        "pipeline_feeds_stored": int(feeds["new"]),
        "folder_s": round(folder["seconds"], 2),
        "folder_articles_per_s": round(folder["articles"] / folder["seconds"], 1),
        "folder_stored": int(folder["new"]),
        "collect_all_first_s": round(again["first_seconds"], 2),
        "recollect_unchanged_s": round(again["seconds"], 2),
        "recollect_vs_first_ratio": round(again["seconds"] / again["first_seconds"], 3),
        "collect_all_first_new": int(again["first_new"]),
        "recollect_articles_read": int(again["articles"]),
        "recollect_new": int(again["new"]),
        "source_errors": int(feeds["errors"] + folder["errors"] + again["errors"]),
        "interpreter_start_mb": round(base["start_mb"], 1),
        "feedparser_peak_mb": round(base["peak_mb"], 1),
        "feeds_peak_mb": round(feeds["peak_mb"], 1),
        "folder_peak_mb": round(folder["peak_mb"], 1),
        "folder_peak_under_300_mb": folder["peak_mb"] < 300,
        "collect_all_twice_peak_mb": round(again["peak_mb"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("root", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase_main(args.phase, args.root)
        return
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as temp:
        root = Path(temp)
        start = time.perf_counter()
        write_data(root, datetime.now(UTC))
        generate_s = time.perf_counter() - start
        runs = {name: run_phase(name, root) for name in PHASES}
    figures = summarise(runs, generate_s)
    for name, value in figures.items():
        print(f"{name:40} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
