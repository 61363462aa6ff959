"""`run_digest.py schedule` as a real process: on time, stops cleanly, one per database,
and a kill in the middle of a send loses and doubles nothing."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .smtpsink import running_sink
from .test_crash_recovery import copies, crowd_env, start


def due_in(seconds: float) -> str:
    """A quoted send_at (UTC) that many seconds from now, for subscribers.yaml."""
    return f'"{datetime.now(UTC) + timedelta(seconds=seconds):%H:%M:%S}"'


def write_readers(root: Path, count: int, send_at: str) -> set[str]:
    emails = [f"reader{n:04d}@example.com" for n in range(count)]
    entries = "".join(
        f"  - email: {email}\n    topics: [coast]\n    timezone: UTC\n    send_at: {send_at}\n"
        for email in emails
    )
    (root / "subscribers.yaml").write_text(f"subscribers:\n{entries}", encoding="utf-8")
    return set(emails)


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM; the exit code and how long the exit took."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(15)
    return code, time.monotonic() - started


def log_of(root: Path) -> str:
    return (root / "runs.log").read_text(errors="replace")


def test_a_digest_due_in_two_seconds_arrives_and_sigterm_stops_the_service(
    tmp_path: Path,
) -> None:
    with running_sink(tmp_path) as sink:
        env = crowd_env(tmp_path, sink, 0)
        readers = write_readers(tmp_path, 1, due_in(2))
        service = start(["schedule", "--log-json"], env, tmp_path)
        try:
            wait_until(lambda: sink.count() >= 1, 30, "the digest")
        finally:
            code, took = stop(service)

    assert {to for to, _ in sink.accepted()} == readers
    assert (code, took < 10) == (0, True), log_of(tmp_path)
    assert '"event": "stopped"' in log_of(tmp_path)


def test_two_services_on_one_database_send_each_digest_once(tmp_path: Path) -> None:
    with running_sink(tmp_path) as sink:
        env = crowd_env(tmp_path, sink, 0)
        readers = write_readers(tmp_path, 5, due_in(3))
        first = start(["schedule"], env, tmp_path)
        second = start(["schedule"], env, tmp_path)
        try:
            wait_until(lambda: sink.count() >= 5, 30, "five digests")
            time.sleep(2)  # time for any second copy to show up
        finally:
            codes = sorted([stop(first)[0], stop(second)[0]])

    assert Counter(to for to, _ in sink.accepted()) == {r: 1 for r in readers}
    assert codes == [0, 1]  # the second one refused to start
    assert "Another scheduler" in log_of(tmp_path) and "Not starting a second one" in log_of(
        tmp_path
    )


def test_a_service_killed_mid_send_delivers_every_due_digest_after_a_restart(
    tmp_path: Path,
) -> None:
    with running_sink(tmp_path) as sink:
        env = crowd_env(tmp_path, sink, 0)
        readers = write_readers(
            tmp_path, 300, f'"{datetime.now(UTC) - timedelta(minutes=1):%H:%M}"'
        )
        first = start(["schedule"], env, tmp_path)
        wait_until(lambda: sink.count() >= 30, 60, "the first 30 digests")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        at_kill = sink.count()
        restarted = start(["schedule"], env, tmp_path)
        try:
            wait_until(lambda: len(copies(sink)) >= 300, 90, "every digest")
            time.sleep(1)
        finally:
            code, _ = stop(restarted)

    found = copies(sink)
    assert set(found) == readers and at_kill < 300
    duplicated = {to: ids for to, ids in found.items() if len(ids) > 1}
    assert len(duplicated) <= 1  # at most the one in flight at the kill, resent...
    assert all(len(set(ids)) == 1 for ids in duplicated.values())  # ...with its Message-ID
    assert code == 0
