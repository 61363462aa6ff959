"""SMTP messages per second to a loopback sink in other processes, and peak memory.

Side by side in one run, the same ~110 KB digest messages (30 stories, composed once):
- baseline: a bare `smtplib.SMTP` loop, `sendmail` for each message on one connection.
- digest: the messages queued in a real SQLite ledger (a temporary file on disk), then
  delivered by `retry_sends` through `SmtpMailer` with SMTP_CONNECTIONS=1 and 4, each row
  going queued -> sending -> sent. Only the delivery is timed; queueing is timed apart.
The sink counts and discards messages in `--sinks` processes sharing one port
(SO_REUSEPORT): by default a minimal SMTP responder, or aiosmtpd (`--sink aiosmtpd`, which
reads DATA line by line and costs several times what the sender does). Each run checks the
sink's count, and the ledger that every row is `sent`; the sink's CPU per message shows
whether it is the limit. Rounds are interleaved, the fastest of each kind is reported (the
machine may be shared). Peak RSS is this sending process's whole high-water mark.
Both send the same bytes. digest's mailer skips smtplib's two regular-expression passes
over each message (its bytes are already canonical CRLF; dots are stuffed with one
`bytes.replace`), which pays for the ledger's two writes per message.
Targets: digest with one connection >= 0.9x baseline; four connections faster than one.
Ends with one line of JSON.
Usage: python bench/send.py [--messages N] [--rounds R] [--sinks K] [--sink KIND]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import smtplib
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for bench.compose and tests.editions

from bench.compose import composer, editions  # noqa: E402
from digest.config import Settings  # noqa: E402
from digest.deliver import SmtpMailer  # noqa: E402
from digest.dispatch import SendContext, retry_sends  # noqa: E402
from digest.models import SendRecord, SendState  # noqa: E402
from digest.store import Store  # noqa: E402

SENDER = "digest@news.example.com"
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
SharedCount = Synchronized  # a multiprocessing.Value("q") shared by the sink processes
Message = tuple[str, str, bytes]  # recipient, Message-ID, data


class MinimalSink(asyncio.Protocol):
    """Just enough SMTP for smtplib: 250 to everything, 354 to DATA, count at the dot."""

    def __init__(self, count: SharedCount[int]) -> None:
        self.count, self.in_data, self.buffer = count, False, b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, chunk: bytes) -> None:
        self.buffer += chunk
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    self.buffer = self.buffer[-4:]  # the end mark may straddle two chunks
                    return
                self.buffer, self.in_data = self.buffer[end + 5 :], False
                with self.count.get_lock():
                    self.count.value += 1
                self.transport.write(b"250 OK\r\n")
            line, found, self.buffer = self.buffer.partition(b"\r\n")
            if not found:
                self.buffer = line
                return
            self.command(line[:4].upper())

    def command(self, verb: bytes) -> None:
        if verb == b"DATA":
            self.in_data, self.buffer = True, b"\r\n" + self.buffer
        reply = {b"EHLO": b"250-sink\r\n250 8BITMIME", b"DATA": b"354 go on", b"QUIT": b"221 bye"}
        self.transport.write(reply.get(verb, b"250 OK") + b"\r\n")
        if verb == b"QUIT":
            self.transport.close()


class AiosmtpdCounter:
    """aiosmtpd handler: accept every message, keep nothing, count it."""

    def __init__(self, count: SharedCount[int]) -> None:
        self.count = count

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def serve_sink(kind: str, port: int, count: SharedCount[int]) -> None:
    """One sink process on 127.0.0.1:port, sharing the port with its siblings."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("127.0.0.1", port))
    loop = asyncio.new_event_loop()
    handler = AiosmtpdCounter(count)
    # a fixed hostname, or aiosmtpd looks up the machine's FQDN for every session
    protocols = {
        "minimal": lambda: MinimalSink(count),
        "aiosmtpd": lambda: SMTP(handler, hostname="sink"),
    }
    loop.run_until_complete(loop.create_server(protocols[kind], sock=listener))
    loop.run_forever()


def start_sinks(
    kind: str, processes: int
) -> tuple[int, SharedCount[int], list[multiprocessing.Process]]:
    """Sink processes on one free port; returns once the port answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    count: SharedCount[int] = multiprocessing.Value("q", 0)
    sinks = [
        multiprocessing.Process(target=serve_sink, args=(kind, port, count), daemon=True)
        for _ in range(processes)
    ]
    for sink in sinks:
        sink.start()
    for _ in range(500):
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=5).quit()
            return port, count, sinks
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"the sink did not answer on port {port}")


def cpu_seconds(processes: list[multiprocessing.Process]) -> float:
    """User + system CPU the processes have used so far (Linux /proc)."""
    total = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def compose_messages(count: int) -> list[Message]:
    made = composer()
    messages = []
    for edition in editions(count):
        envelope = made.envelope(edition)
        messages.append((edition.subscriber.email, envelope.message_id, envelope.data))
    return messages


def baseline(port: int, messages: list[Message]) -> float:
    """Seconds for a bare smtplib loop on one connection."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for recipient, _, data in messages:
            connection.sendmail(SENDER, [recipient], data)
    return time.perf_counter() - start


def queue_ledger(path: Path, messages: list[Message]) -> tuple[Store, float]:
    """A fresh ledger with one queued row per message; the seconds queueing took."""
    store = Store(path)
    start = time.perf_counter()
    for recipient, message_id, data in messages:
        record = SendRecord(recipient, "2026-11-26", message_id, SendState.QUEUED, data, NOW)
        store.queue_send(record, NOW)
    return store, time.perf_counter() - start


def digest_run(store: Store, port: int, connections: int) -> float:
    """Seconds for `retry_sends` to deliver every queued row; fails unless all are sent."""
    settings = Settings(
        mail_from=f"The Digest <{SENDER}>", smtp_host="127.0.0.1", smtp_port=port,
        smtp_tls="none", smtp_connections=connections,
    )  # fmt: skip
    ctx = SendContext(settings, store, composer(), {}, lambda: datetime.now(UTC))
    queued = store.ledger_totals()
    start = time.perf_counter()
    retry_sends(ctx, lambda: SmtpMailer(settings))
    seconds = time.perf_counter() - start
    if (totals := store.ledger_totals()) != {"sent": queued.get("queued", 0)}:
        raise SystemExit(f"{connections} connection(s): the ledger shows {totals}")
    return seconds


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Runs:
    """The fastest of each kind of run, each one checked against the sink's count."""

    def __init__(self, count: SharedCount[int], sinks: list[multiprocessing.Process]) -> None:
        self.count, self.sinks = count, sinks
        self.best: dict[str, tuple[float, float]] = {}  # name: (messages/s, sink CPU ms each)

    def run(self, name: str, sender: Callable[[], float], messages: int) -> None:
        before, cpu_before = self.count.value, cpu_seconds(self.sinks)
        seconds = sender()
        time.sleep(0.05)  # the sink counts a message as it replies 250, not before
        received = self.count.value - before
        if received != messages:
            raise SystemExit(f"{name}: the sink received {received} of {messages} messages")
        rate, sink_ms = messages / seconds, 1000 * (cpu_seconds(self.sinks) - cpu_before) / messages
        print(
            f"  {name:9} {rate:6,.0f}/s, sink CPU {sink_ms:.2f} ms each, peak {peak_mb():,.0f} MB"
        )
        if rate > self.best.get(name, (0.0, 0.0))[0]:
            self.best[name] = (rate, sink_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sinks", type=int, default=2, help="sink processes on the port")
    parser.add_argument("--sink", choices=("minimal", "aiosmtpd"), default="minimal")
    args = parser.parse_args()
    port, count, sinks = start_sinks(args.sink, args.sinks)  # before any thread: safe to fork
    start = time.perf_counter()
    messages = compose_messages(args.messages)
    size_kb = sum(len(m[2]) for m in messages) / len(messages) / 1024
    print(f"{len(messages):,} messages of {size_kb:.0f} KB composed in "
          f"{time.perf_counter() - start:.1f} s; sink: {args.sinks} x {args.sink}")  # fmt: skip
    runs, queue_s = Runs(count, sinks), []
    for round_number in range(1, args.rounds + 1):
        print(f"round {round_number}")
        runs.run("baseline", lambda: baseline(port, messages), len(messages))
        with tempfile.TemporaryDirectory() as temp:
            for connections in (1, 4):
                store, seconds = queue_ledger(Path(temp, f"{connections}.db"), messages)
                queue_s.append(seconds)
                name = f"digest_{connections}"
                runs.run(name, partial(digest_run, store, port, connections), len(messages))
                store.close()
    for sink in sinks:
        sink.terminate()
    (base, base_sink), (one, one_sink), (four, four_sink) = runs.best.values()
    queue_rate = len(messages) / min(queue_s)
    held_mb = len(messages) * size_kb / 1024
    print(f"fastest of {args.rounds}: baseline {base:,.0f}/s, digest_1 {one:,.0f}/s, "
          f"digest_4 {four:,.0f}/s; queueing (not timed) {queue_rate:,.0f} rows/s")  # fmt: skip
    print(f"digest_1/baseline {one / base:.2f} (target >= 0.9); "
          f"digest_4/digest_1 {four / one:.2f} (target > 1)")  # fmt: skip
    print(f"peak RSS {peak_mb():,.0f} MB: the whole process, whose own copy of the messages "
          f"is {held_mb:,.0f} MB")  # fmt: skip
    print(json.dumps({
        "messages": len(messages), "message_kb": round(size_kb, 1), "rounds": args.rounds,
        "sink": args.sink, "sink_processes": args.sinks,
        "baseline_per_s": round(base), "digest_1_per_s": round(one), "digest_4_per_s": round(four),
        "digest_1_vs_baseline": round(one / base, 2), "digest_4_vs_digest_1": round(four / one, 2),
        "sink_cpu_ms_per_message": {"baseline": round(base_sink, 2), "digest_1": round(one_sink, 2),
                                    "digest_4": round(four_sink, 2)},
        "queue_rows_per_s": round(queue_rate), "peak_mb": round(peak_mb()),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
