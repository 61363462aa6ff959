"""Complete personalised messages per second for a 30-story edition, and peak memory.

Side by side in one run:
- digest: the project's composer. The MJML layout is built once per edition variant
  (here four time zones), then each subscriber costs a fill of their name, address and
  signed links into pre-encoded pieces: message bytes ready to send.
- naive: per subscriber, Jinja2 + MJML + CSS inlining, then a stdlib `EmailMessage`
  serialised to bytes (what the composer did before the variant cache).
The 100,000-subscriber run happens in a child process so its peak memory (RSS, including
the interpreter) is its own. Targets: >= 20x naive, >= 2,000 messages/s on one core,
100,000 subscribers under 300 MB. Ends with one line of JSON.
Usage: python bench/compose.py [--subscribers N] [--naive M] [--memory-run K]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.editions, the 30-story edition of our own

from digest.compose import Composer, Theme, template_environment  # noqa: E402
from digest.compose.layout import compile_digest  # noqa: E402
from digest.config import Settings  # noqa: E402
from digest.models import Edition, Subscriber  # noqa: E402
from tests.editions import TOPICS, large_edition  # noqa: E402

ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
NAMES = ("Ada Lovelace", "Zoë Ångström", "Kenji Satō", "Grace Hopper", "Amira O'Neill")


def subscribers(count: int) -> Iterator[Subscriber]:
    for number in range(count):
        name = f"{NAMES[number % len(NAMES)]} {number}"
        zone = ZONES[number % len(ZONES)]
        yield Subscriber(f"reader{number}@example.com", name, TOPICS, zone)


def editions(count: int) -> Iterator[Edition]:
    """One shared set of sections; each subscriber's edition differs only in the reader."""
    template = large_edition(Subscriber("x@example.com", "x", TOPICS), 30)
    for subscriber in subscribers(count):
        yield replace(template, subscriber=subscriber)


def composer() -> Composer:
    settings = Settings(mail_from="The Digest <digest@news.example.com>")
    theme = Theme.from_settings(settings)
    return Composer(theme, template_environment(settings.templates_dir), "bench-secret")


def digest_run(count: int) -> tuple[float, int]:
    """Seconds and total bytes for `count` complete messages."""
    made = composer()
    total = 0
    start = time.perf_counter()
    for edition in editions(count):
        total += len(made.envelope(edition).data)
    return time.perf_counter() - start, total


def naive_run(count: int) -> tuple[float, int]:
    made = composer()
    total = 0
    start = time.perf_counter()
    for edition in editions(count):
        rendered = compile_digest(edition, made.theme, {}, made.env).personalise(
            made.personal(edition.subscriber, edition.id, edition.created_at)
        )
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = made.theme.mail_from
        message["To"] = f"{edition.subscriber.name} <{edition.subscriber.email}>"
        message["Subject"] = rendered.subject
        message.set_content(rendered.text, cte="quoted-printable")
        message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
        total += len(message.as_bytes())
    return time.perf_counter() - start, total


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_memory_run(count: int) -> dict[str, float]:
    """Run `count` messages in a fresh interpreter; its peak RSS and rate."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(count)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=300, help="subscribers for the naive loop")
    parser.add_argument("--memory-run", type=int, default=100_000)
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        seconds, total = digest_run(args.child)
        print(json.dumps({"seconds": seconds, "bytes": total, "peak_mb": peak_mb()}))
        return
    seconds, total = digest_run(args.subscribers)
    rate = args.subscribers / seconds
    print(f"digest: {args.subscribers:,} messages in {seconds:.2f} s = {rate:,.0f}/s, "
          f"{total / args.subscribers / 1024:.1f} KB each")  # fmt: skip
    naive_s, naive_total = naive_run(args.naive)
    naive_rate = args.naive / naive_s
    print(f"naive:  {args.naive:,} messages in {naive_s:.2f} s = {naive_rate:,.0f}/s, "
          f"{naive_total / args.naive / 1024:.1f} KB each")  # fmt: skip
    big = child_memory_run(args.memory_run)
    big_rate = args.memory_run / big["seconds"]
    print(f"memory: {args.memory_run:,} messages in {big['seconds']:.1f} s = {big_rate:,.0f}/s, "
          f"peak RSS {big['peak_mb']:.0f} MB (whole process)")  # fmt: skip
    print(f"ratio digest/naive: {rate / naive_rate:.1f}x (target >= 20x, >= 2,000/s, < 300 MB)")
    print(json.dumps({
        "messages": args.subscribers, "digest_per_s": round(rate),
        "naive_per_s": round(naive_rate, 1), "ratio": round(rate / naive_rate, 1),
        "memory_run": args.memory_run,
        "memory_run_per_s": round(big_rate), "memory_run_peak_mb": round(big["peak_mb"]),
        "message_kb": round(total / args.subscribers / 1024, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
