"""`send`, `retry` and `status` as a user runs them, against a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from digest.models import SendState
from digest.store import Store

from .servers import smtp_server
from .test_cli import run, run_on_terminal, sample_env, smtp_env


def test_send_retry_and_status_tell_the_whole_story(tmp_path: Path) -> None:
    with smtp_server() as server:
        env = sample_env(tmp_path, **smtp_env(server.port))
        server.handler.refuse_data["grace@example.org"] = "451 4.2.0 Mailbox busy"
        server.handler.refuse_rcpt["kenji@example.net"] = "550 5.1.1 No such user"
        assert run(["collect"], env, tmp_path).returncode == 0

        first = run(["send", "--all"], env, tmp_path)
        status = run(["status"], env, tmp_path)
        early = run(["retry"], env, tmp_path)
        del server.handler.refuse_data["grace@example.org"]
        forced = run(["retry", "--now"], env, tmp_path)
        again = run(["send", "--subscriber", "Ada Lovelace"], env, tmp_path)
        after = run(["status"], env, tmp_path)

    assert first.returncode == 1
    assert "ada@example.com: sent" in first.stdout
    assert "grace@example.org: deferred (451 4.2.0 Mailbox busy; next attempt at" in first.stdout
    assert "kenji@example.net: failed (550 5.1.1 No such user)" in first.stdout
    assert "0 queued, 0 sending, 1 sent, 1 deferred, 1 failed, 0 unconfirmed" in status.stdout
    assert "grace@example.org, 1 attempt(s), next at" in status.stdout
    assert "kenji@example.net, 1 attempt(s): 550 5.1.1 No such user" in status.stdout
    assert early.returncode == 1 and "grace@example.org: deferred" in early.stdout
    assert forced.returncode == 0 and "grace@example.org: sent" in forced.stdout
    assert "kenji" not in forced.stdout  # a permanent failure is not retried
    assert "ada@example.com: already sent" in again.stdout and "grace" not in again.stdout
    assert "2 sent, 0 deferred, 1 failed" in after.stdout
    recipients = sorted(r.recipients[0] for r in server.received)
    assert recipients == ["ada@example.com", "grace@example.org"]


def test_an_unknown_subscriber_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["send", "--subscriber", "Nobody Here"], sample_env(tmp_path), tmp_path)

    assert result.returncode == 2
    assert "no subscriber with name `nobody here`" in result.stderr


def test_a_named_edition_is_sent_once(tmp_path: Path) -> None:
    env = sample_env(tmp_path)
    assert run(["collect"], env, tmp_path).returncode == 0

    first = run(["send", "--to", "ada@example.com", "--edition", "launch-special"], env, tmp_path)
    second = run(["send", "--to", "ada@example.com", "--edition", "launch-special"], env, tmp_path)

    assert "launch-special ada@example.com: sent" in first.stdout
    assert "launch-special ada@example.com: already sent" in second.stdout
    assert (tmp_path / "outbox" / "launch-special-ada_example.com.eml").exists()


def test_send_draws_a_progress_bar_with_the_rate_on_a_terminal(tmp_path: Path) -> None:
    env = sample_env(tmp_path)
    assert run(["collect"], env, tmp_path).returncode == 0

    process, text = run_on_terminal(["send", "--all"], env, tmp_path)

    assert process.returncode == 0
    assert "sending" in text and "digests/s" in text  # the bar, drawn while sending
    assert "Sent 3 of 3 digests" in text


def test_status_lists_a_send_a_killed_process_left_in_flight(tmp_path: Path) -> None:
    env = sample_env(tmp_path)
    assert run(["collect"], env, tmp_path).returncode == 0
    assert run(["send", "--to", "ada@example.com"], env, tmp_path).returncode == 0
    store = Store(tmp_path / "digest.db")
    (record,) = store.sends_in(SendState.SENT)
    store.start_sending(record, datetime.now(UTC))  # as if killed mid-hand-over
    store.close()

    status = run(["status"], env, tmp_path)
    resumed = run(["send", "--to", "ada@example.com"], env, tmp_path)

    assert f"Sending (1):\n  {record.edition} ada@example.com, 2 attempt(s)" in status.stdout
    assert "resends those with the same Message-ID" in status.stdout
    assert f"{record.edition} ada@example.com: sent" in resumed.stdout


def test_status_shows_each_subscribers_next_digest_and_the_collector(tmp_path: Path) -> None:
    env = sample_env(tmp_path)
    before = run(["status"], env, tmp_path)
    assert run(["collect"], env, tmp_path).returncode == 0
    assert run(["send", "--to", "grace@example.org"], env, tmp_path).returncode == 0

    after = run(["status"], env, tmp_path)

    assert "Never collected." in before.stdout and "nothing sent yet" in before.stdout
    kenji = re.search(
        r"kenji@example.net: next (\S+ \d\d:\d\d) JST \((\S+ \d\d:\d\d) UTC, weekly\)", after.stdout
    )
    assert kenji is not None
    local = datetime.strptime(kenji[1], "%Y-%m-%d %H:%M")
    assert local - datetime.strptime(kenji[2], "%Y-%m-%d %H:%M") == timedelta(hours=9)
    assert local.strftime("%a %H:%M") == "Sat 08:15"
    assert re.search(
        r"grace@example.org: next .*; last sent \d{4}-\d\d-\d\d \d\d:\d\d UTC", after.stdout
    )
    assert re.search(r"^Last collect: \d{4}-\d\d-\d\d \d\d:\d\d UTC$", after.stdout, re.M)
