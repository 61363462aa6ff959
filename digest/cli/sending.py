"""Commands about digests: preview, send, schedule, demo."""

from __future__ import annotations

import logging
import shutil
import signal
from dataclasses import replace
from pathlib import Path

from digest.cli.collecting import print_collect_report
from digest.cli.exits import EXIT_OK, EXIT_PARTIAL
from digest.collect import collect
from digest.compose import outbox_name
from digest.config import Settings
from digest.deliver import MemoryMailer, OutboxMailer, mailer_for
from digest.dispatch import SendOutcome, send_digests
from digest.editions import next_edition
from digest.errors import ConfigError
from digest.models import Subscriber
from digest.runtime import Runtime, open_runtime
from digest.schedule import build_scheduler, next_send_time


def _pick(runtime: Runtime, wanted: str | None) -> list[Subscriber]:
    if wanted is None:
        return list(runtime.subscribers)
    key = wanted.strip().lower()
    found = [s for s in runtime.subscribers if key in (s.email.lower(), s.name.lower())]
    if not found:
        path = runtime.settings.subscribers_file
        raise ConfigError(path, None, f"no subscriber `{wanted}`; use an email or name from it.")
    return found


def preview_command(runtime: Runtime, wanted: str | None) -> int:
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


def send_command(runtime: Runtime, to: str | None, *, dry_run: bool) -> int:
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


def schedule_command(runtime: Runtime) -> int:
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


def demo_command(settings: Settings, folder: Path) -> int:
    """Collect and deliver on the configured sources into a fresh folder, whatever the date."""
    _empty_demo_folder(folder)
    demo_settings = replace(
        settings, database=folder / "digest.db", outbox=folder / "outbox",
        preview_dir=folder / "preview", smtp_host="", max_age_days=0, retention_days=0,
    )  # fmt: skip
    runtime = open_runtime(demo_settings)
    (folder / DEMO_MARKER).touch()
    try:
        report = collect(runtime.sources, runtime.store, demo_settings, runtime.clock())
        print_collect_report(report)
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
