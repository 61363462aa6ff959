"""The command line as a user runs it: real processes, a real SMTP server, real files."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from digest.models import Article
from digest.store import Store

from .conftest import REPO, Project
from .servers import Received, smtp_server

STORY = re.compile(r"^(?P<headline>[^\n]+)\n(?P<source>[^\n]+), \d{1,2} \w{3}, \d\d:\d\d$", re.M)


def run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "run_digest.py"), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_on_terminal(
    args: list[str], env: dict[str, str], cwd: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """Run a command with a pseudo-terminal as its output; what it drew there."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run_digest.py"), *args],
        env={**os.environ, **env, "COLUMNS": "100", "TERM": "xterm"}, cwd=cwd,
        stdout=terminal, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    process.wait(30)
    os.close(controller)
    return process, output.decode(errors="replace")


def cli_env(project: Project) -> dict[str, str]:
    """The processes run on the real clock: no age limits, so the fixtures count on any date."""
    return {**project.environ, "DIGEST_MAX_AGE_DAYS": "0", "DIGEST_RETENTION_DAYS": "0"}


def sample_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The bundled sample configuration, with state in `tmp_path` and no age limit."""
    return {
        "DIGEST_SOURCES": str(REPO / "sources.yaml"),
        "DIGEST_SUBSCRIBERS": str(REPO / "subscribers.yaml"),
        "DIGEST_DATABASE": str(tmp_path / "digest.db"),
        "DIGEST_OUTBOX": str(tmp_path / "outbox"),
        "DIGEST_PREVIEW_DIR": str(tmp_path / "preview"),
        "DIGEST_MAX_AGE_DAYS": "0",
        "DIGEST_RETENTION_DAYS": "0",
        "SMTP_HOST": "",
        **extra,
    }


def smtp_env(port: int) -> dict[str, str]:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_TLS": "none"}


def stories_in(text: str) -> list[str]:
    return [m["headline"] for m in STORY.finditer(text.replace("\r\n", "\n"))]


def parts(received: Received) -> tuple[str, str]:
    message = received.message
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    return text.get_content(), html.get_content() if html is not None else ""


def test_collect_then_send_all_through_a_real_smtp_server(tmp_path: Path) -> None:
    env = sample_env(tmp_path)
    with smtp_server() as server:
        collected = run(["collect"], env, tmp_path)
        sent = run(["send", "--all"], {**env, **smtp_env(server.port)}, tmp_path)
        again = run(["send", "--all"], {**env, **smtp_env(server.port)}, tmp_path)

    assert collected.returncode == 0, collected.stdout + collected.stderr
    assert "0 failed" in collected.stdout and "Articles: 40 new" in collected.stdout
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert again.returncode == 0 and again.stdout.count("already sent") == 3
    by_recipient: dict[str, list[Received]] = {}
    for received in server.received:
        by_recipient.setdefault(received.recipients[0], []).append(received)
    assert {k: len(v) for k, v in by_recipient.items()} == {
        "ada@example.com": 1,
        "grace@example.org": 1,
        "kenji@example.net": 1,
    }
    store = Store(tmp_path / "digest.db")
    articles = {a.title: a for a in store.articles_seen_after(None)}
    store.close()
    check_digest(
        by_recipient["ada@example.com"][0], ("technology", "science", "business"), articles
    )
    check_digest(by_recipient["grace@example.org"][0], ("world", "business"), articles)
    check_digest(by_recipient["kenji@example.net"][0], ("sport", "culture"), articles)


def check_digest(received: Received, topics: tuple[str, ...], articles: dict[str, Article]) -> None:
    """Every story is from the reader's topics; every topic with articles has stories."""
    text, html = parts(received)
    headlines = stories_in(text)
    assert headlines, "the digest has no stories"
    for headline in headlines:
        article = articles[headline]
        assert set(article.topics) & set(topics), f"{headline} is not in {topics}"
        if article.standfirst:  # the summary starts with the standfirst
            assert article.standfirst.split(". ")[0] in " ".join(text.split())
        if html:
            assert article.url in html
    covered = {t for h in headlines for t in articles[h].topics}
    assert covered >= set(topics)
    others = [a.title for a in articles.values() if not set(a.topics) & set(topics)]
    assert not set(others) & set(headlines)
    if received.message["To"].endswith("kenji@example.net>"):
        assert received.message.get_content_type() == "text/plain"
    else:
        assert received.message.get_content_type() == "multipart/alternative"
        assert html.count("<a href=") >= len(headlines)


def test_broken_source_is_reported_and_collect_exits_1(project: Project) -> None:
    (project.root / "articles" / "broken.txt").write_bytes(b"\x00\x00")

    result = run(["collect"], cli_env(project), project.root)

    assert result.returncode == 1
    assert "PROBLEM Bayside desk:" in result.stdout
    assert "broken.txt:1" in result.stdout and "binary" in result.stdout
    assert "Articles: 6 new" in result.stdout


def test_invalid_config_exits_2_naming_file_and_line(project: Project) -> None:
    path = project.root / "subscribers.yaml"
    path.write_text(path.read_text().replace("timezone: Europe/London", "timezone: Europe/Londn"))

    result = run(["send", "--all"], cli_env(project), project.root)

    assert result.returncode == 2
    assert f"{path}:5:" in result.stderr
    assert "unknown timezone `Europe/Londn`" in result.stderr


def test_usage_error_exits_2(project: Project) -> None:
    result = run(["send"], cli_env(project), project.root)

    assert result.returncode == 2
    assert "--all" in result.stderr


@pytest.mark.parametrize(
    "command", [[], ["collect"], ["preview"], ["send"], ["schedule"], ["demo"]]
)
def test_every_command_explains_itself(command: list[str], tmp_path: Path) -> None:
    result = run([*command, "--help"], {}, tmp_path)

    assert result.returncode == 0
    assert "usage: run_digest.py" in result.stdout
    assert len(result.stdout.splitlines()) >= 5


def test_preview_writes_html_and_text_without_sending(project: Project) -> None:
    run(["collect"], cli_env(project), project.root)

    result = run(["preview", "Sam Sailor"], cli_env(project), project.root)

    assert result.returncode == 0, result.stderr
    html = list((project.root / "preview").glob("*sailor*.html"))
    text = list((project.root / "preview").glob("*sailor*.txt"))
    assert len(html) == 1 and len(text) == 1
    assert "Gull Point" in text[0].read_text()
    assert "<html" in html[0].read_text()
    assert not (project.root / "outbox").exists()
    assert "farmer" not in result.stdout


def test_dry_run_reports_without_sending(project: Project) -> None:
    run(["collect"], cli_env(project), project.root)

    dry = run(["send", "--to", "sailor@example.com", "--dry-run"], cli_env(project), project.root)
    real = run(["send", "--to", "sailor@example.com"], cli_env(project), project.root)

    assert dry.returncode == 0
    assert "would send" in dry.stdout and "Dry run" in dry.stdout
    assert real.returncode == 0 and ": sent" in real.stdout
    assert len(list((project.root / "outbox").glob("*.eml"))) == 1


def test_demo_fills_a_fresh_outbox_from_the_bundled_samples(tmp_path: Path) -> None:
    env = {
        "DIGEST_SOURCES": str(REPO / "sources.yaml"),
        "DIGEST_SUBSCRIBERS": str(REPO / "subscribers.yaml"),
        "SMTP_HOST": "smtp.invalid",
    }
    first = run(["demo", "--dir", "demo"], env, tmp_path)
    second = run(["demo", "--dir", "demo"], env, tmp_path)

    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0 and second.stdout.count(": sent") == 3
    outbox = tmp_path / "demo" / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 3
    assert len(list(outbox.glob("*.html"))) == 2  # the text-only subscriber has no HTML part
    assert str(outbox.resolve()) in first.stdout


def test_demo_never_empties_a_folder_it_did_not_make(tmp_path: Path) -> None:
    keep = tmp_path / "notes" / "keep.txt"
    keep.parent.mkdir()
    keep.write_text("precious")

    result = run(["demo", "--dir", "notes"], {}, tmp_path)

    assert result.returncode == 2
    assert "not a demo folder" in result.stderr
    assert keep.read_text() == "precious"


class StallingHandler:
    """Holds the SMTP conversation for one recipient until released, like a slow server."""

    def __init__(self, stall_for: str) -> None:
        self.stall_for = stall_for
        self.stalled = threading.Event()
        self.received: list[Received] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == self.stall_for:
            self.stalled.set()
            await asyncio.sleep(30)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 Message accepted"


def test_killed_mid_send_the_next_run_delivers_each_digest_once(project: Project) -> None:
    from aiosmtpd.controller import Controller

    from .servers import free_port

    handler = StallingHandler("farmer@example.org")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run(["collect"], cli_env(project), project.root)
        env = {**os.environ, **cli_env(project), **smtp_env(port)}
        process = subprocess.Popen(
            [sys.executable, str(REPO / "run_digest.py"), "send", "--all"],
            env=env,
            cwd=project.root,
            stdout=subprocess.DEVNULL,
        )
        assert handler.stalled.wait(30), "the send never reached the second subscriber"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        handler.stall_for = "nobody"
        status_before = {r.recipients[0] for r in handler.received}
        rerun = run(["send", "--all"], {**cli_env(project), **smtp_env(port)}, project.root)
        time.sleep(0.2)
    finally:
        controller.stop()

    assert status_before == {"sailor@example.com"}
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    counts: dict[str, int] = {}
    for received in handler.received:
        counts[received.recipients[0]] = counts.get(received.recipients[0], 0) + 1
    assert counts == {"sailor@example.com": 1, "farmer@example.org": 1}
    assert isinstance(handler.received[1].message, EmailMessage)


def test_broken_template_fails_preview_with_template_and_line(project: Project) -> None:
    templates = project.root / "templates"
    templates.mkdir()
    for source in (REPO / "templates").rglob("*.j2"):
        target = templates / source.relative_to(REPO / "templates")
        target.parent.mkdir(exist_ok=True)
        target.write_text(source.read_text())
    (templates / "digest.txt.j2").write_text("{{ newsletter }}\n{% for x in %}\n")
    env = {**cli_env(project), "DIGEST_TEMPLATES_DIR": str(templates)}
    run(["collect"], env, project.root)

    result = run(["preview"], env, project.root)

    assert result.returncode == 1
    assert "digest.txt.j2:2" in result.stderr
    assert not list((project.root / "preview").glob("*.txt"))


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_schedule_collects_at_start_and_stops_cleanly(project: Project, stop_signal: int) -> None:
    env = {**os.environ, **cli_env(project), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "run_digest.py"), "schedule"],
        env=env, cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(60, process.kill)  # never hang the suite
    watchdog.start()
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "collected 6 articles" in line:
            break
    process.send_signal(stop_signal)
    output, _ = process.communicate(timeout=20)
    watchdog.cancel()

    assert process.returncode == 0, "".join(lines) + output
    assert any("sailor@example.com: next digest" in line for line in lines)
    assert any("Scheduler running" in line for line in lines)
    store = Store(project.root / "data" / "digest.db")
    assert len(store.articles_seen_after(None)) == 6
    store.close()


def test_articles_json_lists_what_is_stored(project: Project) -> None:
    run(["collect"], cli_env(project), project.root)

    everything = run(["articles", "--json"], cli_env(project), project.root)
    farming = run(["articles", "--json", "--topic", "farming"], cli_env(project), project.root)
    recent = run(["articles", "--json", "--since", "2026-11-26"], cli_env(project), project.root)
    bad = run(["articles", "--json", "--since", "yesterday"], cli_env(project), project.root)

    rows = json.loads(everything.stdout)
    assert len(rows) == 6
    storm = next(r for r in rows if r["title"].startswith("Storm Warning"))
    assert storm["canonical_url"] == "https://shoreline.example.net/storm-warning"
    assert storm["topics"] == ["coast"] and storm["duplicate_of"] is None
    assert storm["summary"] and storm["published"] == "2026-11-26T06:00:00+00:00"
    assert {r["title"] for r in json.loads(farming.stdout)} == {
        "Apple Growers Count a Record Harvest in the Brenn Valley",
        "Brenn Valley Apple Glut & Falling Prices",
    }
    assert all(r["published"] >= "2026-11-26" for r in json.loads(recent.stdout))
    assert len(json.loads(recent.stdout)) < len(rows)
    assert bad.returncode == 2 and "not an ISO date" in bad.stderr


def test_sources_shows_each_source_health(project: Project) -> None:
    (project.root / "feeds" / "coast.rss.xml").write_text("<rss><broken")
    run(["collect"], cli_env(project), project.root)

    result = run(["sources"], cli_env(project), project.root)

    assert result.returncode == 0
    assert "Shoreline Post (feed)" in result.stdout
    assert "1 failures in a row" in result.stdout and "not a readable" in result.stdout
    assert "articles stored: 2" in result.stdout  # the Bayside desk folder


def test_collect_path_reads_one_folder_or_feed_once(project: Project, tmp_path: Path) -> None:
    extra = tmp_path / "inbox"
    extra.mkdir()
    (extra / "note.txt").write_text("Harbour Lights Festival Returns\n\nLanterns lit the quay.\n")

    folder = run(
        ["collect", "--path", str(extra), "--topic", "coast"], cli_env(project), project.root
    )
    feed = run(["collect", "--path", str(project.root / "feeds" / "farming.atom.xml")],
               cli_env(project), project.root)  # fmt: skip
    missing = run(["collect", "--path", str(tmp_path / "nope")], cli_env(project), project.root)

    assert folder.returncode == 0 and "Articles: 1 new" in folder.stdout
    assert feed.returncode == 0 and "Articles: 1 new" in feed.stdout
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    listed = json.loads(run(["articles", "--json"], cli_env(project), project.root).stdout)
    assert {r["title"] for r in listed} == {
        "Harbour Lights Festival Returns",
        "Brenn Valley Apple Glut & Falling Prices",
    }


def test_collect_shows_a_progress_bar_on_a_terminal(project: Project) -> None:
    process, text = run_on_terminal(["collect"], cli_env(project), project.root)

    assert process.returncode == 0
    assert "collecting" in text  # the bar, drawn while sources are read
    assert "Articles: 6 new" in text


def test_stories_json_groups_coverage_and_filters_by_topic(project: Project) -> None:
    run(["collect"], cli_env(project), project.root)

    everything = json.loads(run(["stories", "--json"], cli_env(project), project.root).stdout)
    farming = json.loads(
        run(["stories", "--json", "--topic", "farming"], cli_env(project), project.root).stdout
    )
    later = run(["stories", "--json", "--since", "2099-01-01"], cli_env(project), project.root)

    keepers = next(s for s in everything if "Gull Point" in s["headline"] and s["also_covered_by"])
    assert keepers["topic"] == "coast"
    assert keepers["also_covered_by"][0]["source"] == "Shoreline Post"
    assert len(keepers["articles"]) == 2 and keepers["summary"]
    assert {
        "kind": "related",
        "title": "Harbour Board Approves New Pier for Gull Point Ferries",
    }.items() <= keepers["related"][0].items()
    assert sum(len(s["articles"]) for s in everything) == 6
    assert {s["topic"] for s in farming} == {"farming"}
    assert json.loads(later.stdout) == []
