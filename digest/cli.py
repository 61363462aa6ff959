"""The command line: argument parsing, output and exit codes. The only module that prints."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from digest.collect import CollectReport, collect
from digest.config import Settings, load_settings
from digest.deliver import MemoryMailer, OutboxMailer, mailer_for
from digest.dispatch import SendOutcome, send_digests
from digest.editions import next_edition, outbox_name
from digest.errors import ConfigError, DigestError
from digest.models import Subscriber
from digest.runtime import Runtime, open_runtime
from digest.schedule import build_scheduler, next_send_time

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


COMMANDS = {
    "collect": (
        "read every configured source into the database",
        "Read every feed and article folder in the sources file into the database.",
    ),
    "preview": (
        "write the next digest as HTML and text files",
        "Write each subscriber's next digest to the preview folder (DIGEST_PREVIEW_DIR) "
        "without sending or recording anything.",
    ),
    "send": (
        "send today's digests now",
        "Send today's digest now through SMTP (when SMTP_HOST is set) or to the outbox "
        "folder. A digest already sent for today's edition is never sent again.",
    ),
    "schedule": (
        "run the service: collect regularly, send at each subscriber's time",
        "Collect every DIGEST_COLLECT_INTERVAL_MINUTES and send each subscriber's digest "
        "at their send_at in their timezone. Stop with Ctrl-C.",
    ),
    "demo": (
        "collect the configured sources and send every digest to a fresh outbox",
        "Start from an empty demo folder, collect the configured sources (the bundled "
        "samples by default) and deliver every subscriber's digest as .eml and .html files. "
        "Never uses SMTP; no age limit applies, so the samples work on any date.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run_digest.py",
        description="Collect articles, compose each subscriber's digest and deliver it by email.",
        epilog="Settings come from the environment and .env; README.md lists every one. "
        "Exit codes: 0 success, 1 partial failure, 2 usage or configuration error.",
    )
    parser.add_argument(
        "--env-file", type=Path, default=Path(".env"), help="settings file (default: .env)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub = {
        name: commands.add_parser(name, help=short, description=long)
        for name, (short, long) in COMMANDS.items()
    }
    sub["preview"].add_argument("subscriber", nargs="?", help="email or name (default: all)")
    target = sub["send"].add_mutually_exclusive_group(required=True)
    target.add_argument("--all", action="store_true", help="every subscriber")
    target.add_argument("--to", metavar="EMAIL", help="one subscriber, by email or name")
    sub["send"].add_argument(
        "--dry-run", action="store_true", help="compose and report; send and record nothing"
    )
    sub["demo"].add_argument(
        "--dir", type=Path, default=Path("demo"), help="demo folder (default: demo)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.env_file, os.environ)
        if args.command == "demo":
            return _demo(settings, args.dir)
        runtime = open_runtime(settings)
        try:
            return _run(args, runtime)
        finally:
            runtime.close()
    except ConfigError as error:
        _err(f"configuration error: {error}")
        return EXIT_USAGE
    except DigestError as error:
        _err(f"error: {error}")
        return EXIT_PARTIAL


def _run(args: argparse.Namespace, runtime: Runtime) -> int:
    if args.command == "collect":
        return _collect(runtime)
    if args.command == "preview":
        return _preview(runtime, args.subscriber)
    if args.command == "send":
        return _send(runtime, args.to, dry_run=args.dry_run)
    return _schedule(runtime)


def _collect(runtime: Runtime) -> int:
    report = collect(runtime.sources, runtime.store, runtime.settings, runtime.clock())
    _print_collect(report)
    return EXIT_PARTIAL if report.errors else EXIT_OK


def _print_collect(report: CollectReport) -> None:
    for result in report.results:
        mark = "ok  " if not result.errors else "FAIL" if not result.articles else "some"
        print(f"{mark} {result.source}: {len(result.articles)} articles")
        for error in result.errors:
            print(f"     {error}")
    problems = len(report.errors)
    print(
        f"Collected {report.total_articles} articles ({report.new_articles} new) "
        f"from {len(report.results)} sources; {problems} problem{'s' * (problems != 1)}."
    )


def _pick(runtime: Runtime, wanted: str | None) -> list[Subscriber]:
    if wanted is None:
        return list(runtime.subscribers)
    key = wanted.strip().lower()
    found = [s for s in runtime.subscribers if key in (s.email.lower(), s.name.lower())]
    if not found:
        path = runtime.settings.subscribers_file
        raise ConfigError(path, None, f"no subscriber `{wanted}`; use an email or name from it.")
    return found


def _preview(runtime: Runtime, wanted: str | None) -> int:
    ctx = runtime.send_context
    folder = runtime.settings.preview_dir
    folder.mkdir(parents=True, exist_ok=True)
    for subscriber in _pick(runtime, wanted):
        edition = next_edition(
            subscriber, runtime.store, ctx.labels, runtime.settings, runtime.clock()
        )
        rendered = ctx.composer.render(edition)
        stem = folder / outbox_name(edition.id, subscriber.email)
        stem.with_suffix(".txt").write_text(rendered.text, encoding="utf-8")
        written = [stem.with_suffix(".txt")]
        if rendered.html:
            stem.with_suffix(".html").write_text(rendered.html, encoding="utf-8")
            written.insert(0, stem.with_suffix(".html"))
        print(f"{subscriber.email}: {len(edition.stories)} stories, {rendered.subject}")
        if not edition.stories:
            print("  nothing new since the last digest: `send` would skip this subscriber")
        for path in written:
            print(f"  {path}")
    return EXIT_OK


def _send(runtime: Runtime, to: str | None, *, dry_run: bool) -> int:
    subscribers = _pick(runtime, to)
    mailer = MemoryMailer() if dry_run else mailer_for(runtime.settings)
    try:
        outcomes = send_digests(subscribers, runtime.send_context, mailer, dry_run=dry_run)
    finally:
        mailer.close()
    _print_outcomes(outcomes, runtime.settings, dry_run=dry_run)
    return EXIT_PARTIAL if any(o.is_failure for o in outcomes) else EXIT_OK


def _print_outcomes(outcomes: list[SendOutcome], settings: Settings, *, dry_run: bool) -> None:
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        print(f"{outcome.edition} {outcome.email}: {outcome.status}{detail}")
    sent = sum(o.status == "sent" for o in outcomes)
    where = f"SMTP {settings.smtp_host}" if settings.smtp_host else f"outbox {settings.outbox}/"
    if dry_run:
        print("Dry run: nothing was sent or recorded.")
    else:
        print(f"Sent {sent} of {len(outcomes)} digests via {where}.")


def _schedule(runtime: Runtime) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    now = runtime.clock()
    for subscriber in runtime.subscribers:
        due = next_send_time(subscriber, now)
        print(f"{subscriber.email}: next digest {due:%Y-%m-%d %H:%M %Z} ({subscriber.frequency})")
    scheduler = build_scheduler(runtime, lambda: mailer_for(runtime.settings))
    print("Scheduler running; press Ctrl-C to stop.", flush=True)
    # SIGTERM (systemd, docker stop) stops like Ctrl-C: the job in flight finishes first
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=True)
    return EXIT_OK


def _demo(settings: Settings, folder: Path) -> int:
    """Collect and deliver on the configured sources into a fresh folder, whatever the date."""
    _empty_demo_folder(folder)
    demo_settings = replace(
        settings, database=folder / "digest.db", outbox=folder / "outbox",
        preview_dir=folder / "preview", smtp_host="", max_age_days=0,
    )  # fmt: skip
    runtime = open_runtime(demo_settings)
    (folder / DEMO_MARKER).touch()
    try:
        report = collect(runtime.sources, runtime.store, demo_settings, runtime.clock())
        _print_collect(report)
        outcomes = send_digests(
            runtime.subscribers, runtime.send_context, OutboxMailer(demo_settings.outbox)
        )
    finally:
        runtime.close()
    _print_outcomes(outcomes, demo_settings, dry_run=False)
    print(f"\nOpen the digests in a browser: {demo_settings.outbox.resolve()}/*.html")
    failed = report.errors or any(o.is_failure for o in outcomes)
    return EXIT_PARTIAL if failed else EXIT_OK


DEMO_MARKER = ".digest-demo"


def _empty_demo_folder(folder: Path) -> None:
    """Remove an earlier demo's folder, never a folder the demo did not make."""
    if not folder.exists():
        return
    if not (folder / DEMO_MARKER).exists() and any(folder.iterdir()):
        message = f"refusing to empty {folder}: it is not a demo folder; choose another --dir."
        raise ConfigError(folder, None, message)
    shutil.rmtree(folder)


def _err(message: str) -> None:
    print(message, file=sys.stderr)
