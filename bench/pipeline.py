"""Time the whole pipeline on generated data: collect, compose, deliver to the outbox.

Baseline, run side by side: the same editions rendered for a text-only reader (Jinja2
alone, no MJML and no MIME message), the cheapest possible compose. Prints figures,
then one line of JSON.
Usage: python bench/pipeline.py [--articles N] [--subscribers M]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from digest.collect import collect
from digest.config import load_settings
from digest.deliver import OutboxMailer
from digest.dispatch import send_digests
from digest.editions import next_edition
from digest.models import Edition, MailFormat
from digest.runtime import open_runtime

TOPICS = ["world", "business", "technology", "science", "sport", "culture"]
WORDS = (
    "harbour council river valley market ferry school bridge festival museum station farm mill "
    "rail storm budget vote league final survey study app network data plan"
).split()


def sentence(rng: random.Random, length: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(length)]
    return " ".join(words).capitalize() + "."


def write_articles(folder: Path, count: int, rng: random.Random) -> None:
    folder.mkdir(parents=True)
    for number in range(count):
        topic = TOPICS[number % len(TOPICS)]
        headline = " ".join(rng.choice(WORDS).title() for _ in range(7)) + f" {number}"
        body = "\n\n".join(" ".join(sentence(rng) for _ in range(3)) for _ in range(5))
        standfirst = f"{sentence(rng)} {sentence(rng)}"
        text = f"{topic.title()}\n\n{headline}\n\n{standfirst}\nBench Wire\n\n{body}\n\nDiscuss\n"
        (folder / f"a{number:05d}.txt").write_text(text, encoding="utf-8")


def write_config(root: Path, subscribers: int, rng: random.Random) -> None:
    topics = "\n".join(f"  {t}:\n    label: {t.title()}" for t in TOPICS)
    (root / "sources.yaml").write_text(
        f"topics:\n{topics}\nsources:\n  - name: Bench\n    folder: articles\n", encoding="utf-8"
    )
    lines = ["subscribers:"]
    for number in range(subscribers):
        chosen = rng.sample(TOPICS, 3)
        lines.append(f"  - email: reader{number}@example.com\n    topics: [{', '.join(chosen)}]")
    (root / "subscribers.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def text_edition(edition: Edition) -> Edition:
    """The same edition for a text-only reader: no MJML, no HTML part."""
    return replace(edition, subscriber=replace(edition.subscriber, format=MailFormat.TEXT))


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1200)
    parser.add_argument("--subscribers", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        write_articles(root / "articles", args.articles, rng)
        write_config(root, args.subscribers, rng)
        env = {
            "DIGEST_SOURCES": str(root / "sources.yaml"),
            "DIGEST_SUBSCRIBERS": str(root / "subscribers.yaml"),
            "DIGEST_DATABASE": str(root / "digest.db"),
            "DIGEST_OUTBOX": str(root / "outbox"),
        }
        runtime = open_runtime(load_settings(None, {**os.environ, **env}))
        settings, now = runtime.settings, runtime.clock()
        collect_s, _ = timed(lambda: collect(runtime.sources, runtime.store, settings, now))
        ctx = runtime.send_context
        start = time.perf_counter()
        editions = [
            next_edition(s, runtime.store, ctx.labels, settings, now) for s in runtime.subscribers
        ]
        edition_s = time.perf_counter() - start
        text_only = [text_edition(e) for e in editions]
        baseline_s, _ = timed(lambda: [ctx.composer.render(e) for e in text_only])
        compose_s, _ = timed(lambda: [ctx.composer.envelope(e) for e in editions])
        start = time.perf_counter()
        outcomes = send_digests(runtime.subscribers, ctx, lambda: OutboxMailer(settings.outbox))
        send_s = time.perf_counter() - start
        runtime.close()
    count = len(runtime.subscribers)
    figures = {
        "articles": args.articles,
        "subscribers": count,
        "collect_s": round(collect_s, 3),
        "collect_articles_per_s": round(args.articles / collect_s, 1),
        "edition_ms_per_subscriber": round(1000 * edition_s / count, 2),
        "compose_ms_per_message": round(1000 * compose_s / count, 2),
        "baseline_text_render_ms_per_message": round(1000 * baseline_s / count, 2),
        "compose_vs_text_render_ratio": round(compose_s / baseline_s, 1),
        "send_to_outbox_ms_per_digest": round(1000 * send_s / count, 2),
        "sent": sum(o.status == "sent" for o in outcomes),
    }
    for name, value in figures.items():
        print(f"{name:40} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
