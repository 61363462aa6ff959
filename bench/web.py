"""Requests per second and latency of the web app's preview and unsubscribe routes.

A temporary project is collected (`run_digest.py collect`) so that each subscriber's next
digest holds 30 stories (two outlets each, 60 articles), then served by the real server
(`run_digest.py serve`, uvicorn) in its own process. This process is the load generator:
`--concurrency` asyncio clients on keep-alive HTTP/1.1 connections, each sending its next
request as soon as the last one's body arrived, for `--seconds` per route and concurrency.
Routes: the preview page and its email.html (one subscriber), the unsubscribe page (four
others, never unsubscribed), and the RFC 8058 one-click POST (four more, in turn: after
the first four, each POST repeats an unsubscribe already recorded, which is idempotent).
Rounds are interleaved and each route's fastest run is reported (the machine may be
shared); the server's CPU per request is printed too, steadier than the rates.
A preview rebuilds the stories of every article of the last 30 days, so its cost grows
with the store, not the digest: `--stored 600` keeps 1,200 articles.
Target: preview page p99 < 100 ms at concurrency 4. Ends with one line of JSON.
Usage: python bench/web.py [--seconds S] [--rounds R] [--concurrency 4,16] [--stored N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from digest.links import signed_token, subscriber_key  # noqa: E402

TOPICS = ("world", "business", "technology", "science", "sport", "culture")
OUTLETS = ("Harbour Wire", "Civic Wire")
COMMON = "council river market ferry school bridge festival station budget vote study plan"
SECRET = "bench-secret-not-for-production"
TARGET_MS = 100.0
READERS = 4  # subscribers for each unsubscribe route
LINE = (
    "  {name:17} c={level:<3} {per_s:8,.1f}/s  p50 {p50_ms:6.2f}  p95 {p95_ms:6.2f}  "
    "p99 {p99_ms:6.2f} ms; CPU each: server {server_cpu_ms:.2f} ms, client {client_cpu_ms:.2f} ms"
)
Results = dict[str, dict[str, dict[str, float]]]  # route: "c4": figures


def invented_words(rng: random.Random, count: int) -> list[str]:
    """Words no other story uses, so that each story stays a story of its own."""
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    return ["".join(rng.choices(syllables, k=3)) for _ in range(count)]


def folder(outlet: str) -> str:
    return outlet.split()[0].lower()


def write_articles(root: Path, stories: int, rng: random.Random) -> None:
    """`stories` stories over TOPICS, each reported by both OUTLETS (one folder each)."""
    for outlet in OUTLETS:
        (root / folder(outlet)).mkdir()
    for number in range(stories):
        words = invented_words(rng, 8)
        headline = " ".join(w.title() for w in words[:6])
        for outlet in OUTLETS:
            sentences = [
                " ".join(rng.sample(words + COMMON.split(), 12)).capitalize() + "."
                for _ in range(12)
            ]
            body = "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(3, 12, 3))
            text = f"{TOPICS[number % len(TOPICS)].title()}\n\n{headline}\n\n"
            text += f"{' '.join(sentences[:2])}\n{outlet}\n\n{body}\n"
            (root / folder(outlet) / f"s{number:03d}.txt").write_text(text, encoding="utf-8")


def write_project(root: Path, stored: int, stories: int, subscribers: int) -> dict[str, str]:
    """`stored` stories' articles and the config files in `root`, digests of `stories`
    stories; the environment that points the CLI at them."""
    write_articles(root, stored, random.Random(7))
    topics = "".join(f"  {t}:\n    label: {t.title()}\n" for t in TOPICS)
    sources = "".join(f"  - name: {o}\n    folder: {folder(o)}\n" for o in OUTLETS)
    (root / "sources.yaml").write_text(f"topics:\n{topics}sources:\n{sources}", encoding="utf-8")
    every_topic = ", ".join(TOPICS)
    readers = "".join(
        f"  - email: reader{n}@example.com\n    name: Reader {n}\n    topics: [{every_topic}]\n"
        for n in range(subscribers)
    )
    (root / "subscribers.yaml").write_text(f"subscribers:\n{readers}", encoding="utf-8")
    return {
        **os.environ,
        "DIGEST_SOURCES": str(root / "sources.yaml"),
        "DIGEST_SUBSCRIBERS": str(root / "subscribers.yaml"),
        "DIGEST_DATABASE": str(root / "digest.db"),
        "DIGEST_OUTBOX": str(root / "outbox"),
        "DIGEST_SECRET": SECRET,
        "DIGEST_STORIES_PER_TOPIC": str(stories),
        "DIGEST_MAX_STORIES": str(stories),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """`run_digest.py serve` on `port`; returns once the port accepts connections."""
    command = [sys.executable, str(REPO / "run_digest.py"), "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    for _ in range(1000):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with {server.returncode}") from None
            time.sleep(0.01)
    raise SystemExit(f"the server did not answer on port {port}")


def request(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/x-www-form-urlencoded\r\n"
    return head.encode() + b"\r\n" + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    """One request on a keep-alive connection: the status and the body."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if length is None:
        raise SystemExit(f"no Content-Length in {head!r}")
    return int(head.split(b" ", 2)[1]), await reader.readexactly(int(length[1]))


async def client(
    port: int, requests: list[bytes], start: int, until: float, latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    number = start
    while time.perf_counter() < until:
        began = time.perf_counter()
        status, _ = await exchange(reader, writer, requests[number % len(requests)])
        if status != 200:
            raise SystemExit(f"status {status} for {requests[number % len(requests)]!r}")
        latencies.append(time.perf_counter() - began)
        number += 1
    writer.close()


async def load(port: int, requests: list[bytes], concurrency: int, seconds: float) -> list[float]:
    """Latencies of every request `concurrency` clients complete in `seconds`."""
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(*(client(port, requests, n, until, latencies) for n in range(concurrency)))
    return latencies


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_load(
    port: int, server: int, batch: list[bytes], concurrency: int, seconds: float
) -> dict[str, float]:
    """One run's rate, latency percentiles, and CPU per request of server and client."""
    server_cpu, client_cpu = cpu_seconds(server), time.process_time()
    latencies = asyncio.run(load(port, batch, concurrency, seconds))
    count = len(latencies)
    server_ms = 1000 * (cpu_seconds(server) - server_cpu) / count
    client_ms = 1000 * (time.process_time() - client_cpu) / count
    cuts = statistics.quantiles([1000 * s for s in latencies], n=100, method="inclusive")
    return {
        "requests": count, "per_s": round(count / seconds, 1),
        "p50_ms": round(cuts[49], 2), "p95_ms": round(cuts[94], 2), "p99_ms": round(cuts[98], 2),
        "server_cpu_ms": round(server_ms, 2), "client_cpu_ms": round(client_ms, 2),
    }  # fmt: skip


def unsubscribe_paths(readers: range) -> list[str]:
    expires = datetime.now(UTC) + timedelta(days=30)
    emails = [f"reader{n}@example.com" for n in readers]
    return [f"/unsubscribe/{signed_token(SECRET, e, 'unsubscribe', expires)}" for e in emails]


def routes() -> dict[str, list[bytes]]:
    """Each route's requests: reader0 for previews, two sets of others for unsubscribing."""
    key = subscriber_key(SECRET, "reader0@example.com")
    one_click = b"List-Unsubscribe=One-Click"
    posted = unsubscribe_paths(range(1 + READERS, 1 + 2 * READERS))
    return {
        "preview": [request("GET", f"/preview/{key}")],
        "preview_email": [request("GET", f"/preview/{key}/email.html")],
        "unsubscribe_page": [request("GET", p) for p in unsubscribe_paths(range(1, 1 + READERS))],
        "unsubscribe_post": [request("POST", p, one_click) for p in posted],
        "posted_pages": [request("GET", p) for p in posted],  # checked afterwards, not timed
    }


async def fetch(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _, body = await exchange(reader, writer, raw)
    writer.close()
    return body


def stories_shown(port: int, preview: bytes) -> int:
    """The story count the preview page states (checks the setup, and warms the server)."""
    found = re.search(rb"(\d+) stor(?:y|ies)\b", asyncio.run(fetch(port, preview)))
    return int(found[1]) if found else 0


def check_unsubscribed(port: int, pages: list[bytes]) -> None:
    """Each unsubscribe page now says its reader is already unsubscribed."""
    for page in pages:
        if b"already unsubscribed" not in asyncio.run(fetch(port, page)):
            raise SystemExit(f"not unsubscribed after the one-click POSTs: {page!r}")


def run_all(
    env: dict[str, str], stories: int, levels: list[int], seconds: float, rounds: int
) -> Results:
    """Serve the project, check its preview's story count, load each route at each level;
    the fastest run of each route and level."""
    port = free_port()
    server = start_server(env, port)
    try:
        requests = routes()
        posted = requests.pop("posted_pages")
        if (shown := stories_shown(port, requests["preview"][0])) != stories:
            raise SystemExit(f"the preview shows {shown} stories, not {stories}")
        print(f"preview of reader0: {stories} stories; {seconds:g} s per run")
        best: Results = {}
        for round_number in range(1, rounds + 1):
            print(f"round {round_number}")
            for name, batch in requests.items():
                for level in levels:
                    run = timed_load(port, server.pid, batch, level, seconds)
                    print(LINE.format(name=name, level=level, **run))
                    kept = best.setdefault(name, {})
                    if run["per_s"] > kept.get(f"c{level}", {"per_s": 0.0})["per_s"]:
                        kept[f"c{level}"] = run
        check_unsubscribed(port, posted)
        return best
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per route and concurrency")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", default="4,16", help="comma-separated client counts")
    parser.add_argument("--stories", type=int, default=30, help="stories in each digest")
    parser.add_argument("--stored", type=int, default=30, help="stories in the store (>= that)")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    if args.stored < args.stories:
        parser.error("--stored must be at least --stories")
    with tempfile.TemporaryDirectory() as temp:
        env = write_project(Path(temp), args.stored, args.stories, 1 + 2 * READERS)
        collect = [sys.executable, str(REPO / "run_digest.py"), "collect"]
        subprocess.run(collect, env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"{2 * args.stored:,} articles collected ({args.stored:,} stories)")
        results = run_all(env, args.stories, levels, args.seconds, args.rounds)
    print(f"fastest of {args.rounds} round(s):")
    for name, runs in results.items():
        for level in levels:
            print(LINE.format(name=name, level=level, **runs[f"c{level}"]))
    p99 = results["preview"][f"c{levels[0]}"]["p99_ms"]
    verdict = "met" if p99 < TARGET_MS else "MISSED"
    print(f"preview p99 at c={levels[0]}: {p99:.1f} ms (target < {TARGET_MS:.0f} ms): {verdict}")
    print(json.dumps({"stories": args.stories, "stored_articles": 2 * args.stored,
                      "seconds": args.seconds, "routes": results,
                      "preview_p99_ms": p99, "target_met": p99 < TARGET_MS}))  # fmt: skip


if __name__ == "__main__":
    main()
