"""Kill `send` with SIGKILL at random moments, restart it, and count what a real server got.

The SMTP sink runs in a process of its own (tests/smtpsink.py) and records each message
before it replies 250, so its record is the truth whatever happens to the sender.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from .conftest import REPO, write_project
from .smtpsink import Sink, running_sink

EDITION = "crash-test"  # a fixed edition id: a run crossing midnight keeps one edition


def crowd_env(root: Path, sink: Sink, subscribers: int, **extra: str) -> dict[str, str]:
    """Our fixture project with `subscribers` readers of every topic, sending to `sink`."""
    project = write_project(root)
    readers = "".join(
        f"  - email: reader{n:04d}@example.com\n    topics: [coast, farming]\n"
        for n in range(subscribers)
    )
    (root / "subscribers.yaml").write_text(f"subscribers:\n{readers}", encoding="utf-8")
    return {
        **os.environ, **project.environ, "DIGEST_MAX_AGE_DAYS": "0",
        "DIGEST_RETENTION_DAYS": "0", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
        "SMTP_TLS": "none", **extra,
    }  # fmt: skip


def start(args: list[str], env: dict[str, str], root: Path) -> subprocess.Popen[bytes]:
    with (root / "runs.log").open("ab") as log:  # every run's output, for whoever debugs
        return subprocess.Popen(
            [sys.executable, str(REPO / "run_digest.py"), *args],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def run(args: list[str], env: dict[str, str], root: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(REPO / "run_digest.py"), *args]
    return subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, timeout=120)


def wait_for_messages(sink: Sink, count: int, process: subprocess.Popen[bytes]) -> None:
    """Until the sink has accepted `count` messages in all; the sender must keep running."""
    deadline = time.monotonic() + 60
    while sink.count() < count:
        assert process.poll() is None, f"the sender exited ({process.returncode}) too early"
        assert time.monotonic() < deadline, f"the sink never reached {count} messages"
        time.sleep(0.01)


def send_with_kills(env: dict[str, str], root: Path, sink: Sink, kills: int) -> int:
    """`send --all` killed `kills` times mid-send, then run to the end; its exit code."""
    rng = random.Random(2026)
    for _ in range(kills):
        target = sink.count() + 20
        process = start(["send", "--all", "--edition", EDITION], env, root)
        wait_for_messages(sink, target, process)
        time.sleep(rng.uniform(0, 0.3))
        assert process.poll() is None, "the send finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    return start(["send", "--all", "--edition", EDITION], env, root).wait(120)


def copies(sink: Sink) -> dict[str, list[str]]:
    """Recipient -> the Message-ID of each copy the server accepted."""
    found: dict[str, list[str]] = defaultdict(list)
    for recipient, message_id in sink.accepted():
        found[recipient].append(message_id)
    return found


def ledger_status(env: dict[str, str], root: Path) -> tuple[dict[str, int], set[str]]:
    """`status`: the totals per state, and the addresses listed as unconfirmed."""
    output = run(["status"], env, root).stdout
    first, _, rest = output[output.index("Send ledger") :].partition("\n")
    totals = {state: int(n) for n, state in re.findall(r"(\d+) (\w+)", first.split("): ")[1])}
    listed = rest.split("Unconfirmed (")[1].split("\n\n")[0] if "Unconfirmed (" in rest else ""
    return totals, set(re.findall(rf"^  {EDITION} (\S+),", listed, re.M))


def assert_same_id_copies(found: dict[str, list[str]], everyone: set[str]) -> set[str]:
    """Everyone has a copy, copies of one digest share its Message-ID; the duplicated."""
    assert set(found) == everyone, f"lost: {sorted(everyone - set(found))[:10]}"
    assert all(len(set(ids)) == 1 for ids in found.values()), {
        to: ids for to, ids in found.items() if len(set(ids)) > 1
    }
    assert len({ids[0] for ids in found.values()}) == len(everyone)  # one id per digest
    return {to for to, ids in found.items() if len(ids) > 1}


def readers(count: int) -> set[str]:
    return {f"reader{n:04d}@example.com" for n in range(count)}


@pytest.mark.parametrize("connections", [1, 2])
def test_resend_unconfirmed_delivers_every_digest_despite_kills(
    tmp_path: Path, connections: int
) -> None:
    kills = 5
    with running_sink(tmp_path) as sink:
        env = crowd_env(tmp_path, sink, 2000, SMTP_CONNECTIONS=str(connections),
                        DIGEST_RESEND_UNCONFIRMED="yes")  # fmt: skip
        assert run(["collect"], env, tmp_path).returncode == 0
        exit_code = send_with_kills(env, tmp_path, sink, kills)
        found = copies(sink)
        totals, unconfirmed = ledger_status(env, tmp_path)

    assert exit_code == 0, (tmp_path / "runs.log").read_text()[-3000:]
    duplicated = assert_same_id_copies(found, readers(2000))
    assert len(duplicated) <= kills * connections, sorted(duplicated)
    assert totals["sent"] == 2000 and not unconfirmed
    assert sum(totals.values()) == 2000, totals


def test_unconfirmed_digests_wait_for_retry_and_nothing_is_sent_twice(tmp_path: Path) -> None:
    kills, everyone = 2, readers(300)
    with running_sink(tmp_path) as sink:
        env = crowd_env(tmp_path, sink, 300, SMTP_CONNECTIONS="2", DIGEST_RESEND_UNCONFIRMED="no")
        assert run(["collect"], env, tmp_path).returncode == 0
        exit_code = send_with_kills(env, tmp_path, sink, kills)
        before = copies(sink)
        totals, unconfirmed = ledger_status(env, tmp_path)
        retried = run(["retry", "--unconfirmed"], env, tmp_path)
        after = copies(sink)
        totals_after, _ = ledger_status(env, tmp_path)

    assert unconfirmed, "no kill landed mid-transaction: nothing was tested"
    # unconfirmed digests count as failures until retried
    assert exit_code == 1, (tmp_path / "runs.log").read_text()[-3000:]
    assert all(len(ids) == 1 for ids in before.values())
    assert everyone - set(before) <= unconfirmed  # the server may hold an unconfirmed one
    assert len(unconfirmed) <= kills * 2 and totals.get("unconfirmed", 0) == len(unconfirmed)
    assert totals["sent"] + len(unconfirmed) == 300 == sum(totals.values()), totals
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert assert_same_id_copies(after, everyone) <= unconfirmed
    assert {state: n for state, n in totals_after.items() if n} == {"sent": 300}
