"""Commands about digests: preview, send, schedule, demo."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from digest.cli.collecting import print_collect_report
from digest.cli.exits import EXIT_OK, EXIT_PARTIAL
from digest.cli.progress import send_progress
from digest.collect import collect
from digest.compose import outbox_name
from digest.config import Settings
from digest.deliver import MemoryMailer, OutboxMailer, mailer_for
from digest.dispatch import SendOutcome, retry_sends, send_digests
from digest.due import next_slot
from digest.editions import next_edition
from digest.errors import ConfigError
from digest.logs import configure_logging
from digest.models import Subscriber
from digest.runtime import Runtime, open_runtime
from digest.service import Service


@dataclass(frozen=True)
class Wanted:
    """Which subscribers a command is for: one by name, one by email, or (neither) all."""

    name: str | None = None
    email: str | None = None


def _pick(runtime: Runtime, wanted: Wanted) -> list[Subscriber]:
    if wanted.name is None and wanted.email is None:
        return list(runtime.subscribers)
    if wanted.email is not None:
        key, field_name = wanted.email.strip().lower(), "email"
        found = [s for s in runtime.subscribers if s.email.lower() == key]
    else:
        key, field_name = (wanted.name or "").strip().lower(), "name"
        found = [s for s in runtime.subscribers if key in (s.name.lower(), s.email.lower())]
    if not found:
        path = runtime.settings.subscribers_file
        raise ConfigError(path, None, f"no subscriber with {field_name} `{key}`; check the file.")
    return found


def preview_command(runtime: Runtime, wanted: str | None) -> int:
    ctx = runtime.send_context
    folder = runtime.settings.preview_dir
    folder.mkdir(parents=True, exist_ok=True)
    for subscriber in _pick(runtime, Wanted(name=wanted)):
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


def send_command(runtime: Runtime, wanted: Wanted, *, dry_run: bool, edition: str = "") -> int:
    subscribers = _pick(runtime, wanted)
    settings = runtime.settings
    mailers = MemoryMailer if dry_run else (lambda: mailer_for(settings))
    with send_progress(len(subscribers)) as advance:
        outcomes = send_digests(
            subscribers, runtime.send_context, mailers, dry_run=dry_run, edition=edition,
            on_outcome=advance,
        )  # fmt: skip
    _print_outcomes(outcomes, runtime.settings, dry_run=dry_run)
    return EXIT_PARTIAL if any(o.is_failure for o in outcomes) else EXIT_OK


def retry_command(runtime: Runtime, *, now: bool, unconfirmed: bool) -> int:
    settings = runtime.settings
    due = runtime.store.ledger_totals()
    with send_progress(due.get("queued", 0) + due.get("deferred", 0)) as advance:
        outcomes = retry_sends(
            runtime.send_context, lambda: mailer_for(settings), unconfirmed=unconfirmed,
            ignore_backoff=now, on_outcome=advance,
        )  # fmt: skip
    if not outcomes:
        print("Nothing to retry.")
        return EXIT_OK
    _print_outcomes(outcomes, settings, dry_run=False)
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
        if any(o.status == "deferred" for o in outcomes):
            print("Deferred digests are tried again by the next `send`, `retry` or `schedule`.")


def schedule_command(runtime: Runtime, *, log_json: bool) -> int:
    """Run the service until SIGTERM or Ctrl-C; refuse to start beside another one."""
    configure_logging(as_json=log_json)
    service = Service(runtime, lambda: mailer_for(runtime.settings))
    other = service.claim()
    if other is not None:
        print(
            f"Another scheduler ({other.holder}) is running on {runtime.settings.database}; "
            f"its lease runs until {other.expires_at:%H:%M:%S %Z}. Not starting a second one.",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    now = runtime.clock()
    for subscriber in runtime.subscribers:
        slot = next_slot(subscriber, now)
        local = slot.at.astimezone(ZoneInfo(subscriber.timezone))
        print(f"{subscriber.email}: next digest {local:%Y-%m-%d %H:%M %Z} ({subscriber.frequency})")
    service.start()
    print("Scheduler running; stop it with Ctrl-C or SIGTERM (SIGHUP reloads).", flush=True)
    service.run_until_stopped()
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
            runtime.subscribers, runtime.send_context, lambda: OutboxMailer(demo_settings.outbox)
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
