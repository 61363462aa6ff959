"""Argument parsing and the dispatch to each command; errors become exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from digest.cli.collecting import articles_command, collect_command, sources_command
from digest.cli.exits import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from digest.cli.sending import (
    Wanted,
    demo_command,
    preview_command,
    retry_command,
    schedule_command,
    send_command,
)
from digest.cli.serving import serve_command
from digest.cli.status import status_command
from digest.cli.storylist import stories_command
from digest.config import load_settings
from digest.errors import ConfigError, DigestError
from digest.runtime import Runtime, open_runtime

COMMANDS = {
    "collect": (
        "read every configured source into the database",
        "Read every feed and article folder in the sources file into the database.",
    ),
    "sources": (
        "show each source's health",
        "List each configured source: where it is, its last success and last error, and how "
        "many articles are stored from it.",
    ),
    "articles": (
        "print stored articles as JSON",
        "Print the stored articles as a JSON list (id, url, canonical_url, title, standfirst, "
        "summary, text, published, source, topics, related_headlines, duplicate_of).",
    ),
    "stories": (
        "print the current stories as JSON",
        "Group the articles collected after --since (default: all recent ones) into stories "
        "and print them as JSON: id, topic, headline, summary, articles, also_covered_by, "
        "related links with their kind (related or earlier).",
    ),
    "preview": (
        "write the next digest as HTML and text files",
        "Write each subscriber's next digest to the preview folder (DIGEST_PREVIEW_DIR) "
        "without sending or recording anything.",
    ),
    "send": (
        "send today's digests now",
        "Send today's digest now through SMTP (when SMTP_HOST is set) or to the outbox "
        "folder, after any digest an earlier run left due. A digest already sent for an "
        "edition is never sent again; unsubscribed and suppressed addresses are skipped.",
    ),
    "retry": (
        "deliver deferred and unfinished digests now",
        "Deliver every queued digest and every deferred one whose next attempt is due "
        "(--now: all deferred ones), without composing new editions.",
    ),
    "status": (
        "show the send ledger: totals, deferred, failed and suppressed",
        "Show how many digests are in each state, every deferred one with its next attempt "
        "and reason, every failed or unconfirmed one with the server's reply, and the "
        "suppressed addresses.",
    ),
    "schedule": (
        "run the service: collect regularly, send at each subscriber's time",
        "Collect every DIGEST_COLLECT_INTERVAL_MINUTES and send each subscriber's digest "
        "at their send_at in their timezone; a digest missed by downtime is sent late within "
        "DIGEST_SEND_GRACE_MINUTES. Changes to the subscribers and sources files are picked "
        "up on the fly (or on SIGHUP). Stop with Ctrl-C or SIGTERM: the message in hand is "
        "finished and recorded first. Only one scheduler runs per database.",
    ),
    "serve": (
        "run the web app: previews, archive, one-click unsubscribe",
        "Serve the web app (uvicorn) on 127.0.0.1 by default: every subscriber's next digest "
        "as it will be sent, the archive behind each email's view-in-browser link, source "
        "health, and the unsubscribe and manage-topics pages behind each email's links. "
        "--public (or DIGEST_WEB_PUBLIC=yes) serves only the subscriber pages, for use behind "
        "a reverse proxy; the admin pages then need DIGEST_ADMIN_PASSWORD.",
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
    sub["collect"].add_argument(
        "--path", type=Path, help="read only this folder or feed file, once"
    )
    sub["collect"].add_argument(
        "--topic", action="append", help="topic for --path articles that name none (repeatable)"
    )
    sub["articles"].add_argument("--json", action="store_true", required=True, help="JSON output")
    sub["articles"].add_argument("--since", help="published at or after this ISO date or time")
    sub["articles"].add_argument("--topic", help="only articles with this topic")
    sub["stories"].add_argument("--json", action="store_true", required=True, help="JSON output")
    sub["stories"].add_argument("--since", help="articles collected after this ISO date or time")
    sub["stories"].add_argument("--topic", help="only stories with this topic")
    sub["preview"].add_argument("subscriber", nargs="?", help="email or name (default: all)")
    target = sub["send"].add_mutually_exclusive_group(required=True)
    target.add_argument("--all", action="store_true", help="every subscriber")
    target.add_argument("--subscriber", metavar="NAME", help="one subscriber, by name")
    target.add_argument("--to", metavar="EMAIL", help="one subscriber, by email")
    sub["send"].add_argument(
        "--dry-run", action="store_true", help="compose and report; send and record nothing"
    )
    sub["send"].add_argument(
        "--edition", metavar="ID", default="",
        help="name the edition (default: each subscriber's local date); a new name sends "
        "an extra edition, an old one nothing new",
    )  # fmt: skip
    sub["retry"].add_argument(
        "--now", action="store_true", help="also deferred digests whose next attempt is later"
    )
    sub["retry"].add_argument(
        "--unconfirmed", action="store_true",
        help="also resend digests interrupted mid-send (same Message-ID)",
    )  # fmt: skip
    sub["schedule"].add_argument(
        "--log-json", action="store_true", help="log one JSON object per line (for log shippers)"
    )
    sub["serve"].add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    sub["serve"].add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sub["serve"].add_argument(
        "--public", action="store_true", help="subscriber pages only (behind a reverse proxy)"
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
            return demo_command(settings, args.dir)
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
    except BrokenPipeError:  # output piped into `head` or similar: nothing more to say
        sys.stderr.close()
        return EXIT_OK


def _run(args: argparse.Namespace, runtime: Runtime) -> int:
    if args.command == "collect":
        return collect_command(runtime, args.path, args.topic or [])
    if args.command == "sources":
        return sources_command(runtime)
    if args.command == "articles":
        return articles_command(runtime, args.since, args.topic)
    if args.command == "stories":
        return stories_command(runtime, args.since, args.topic)
    if args.command == "preview":
        return preview_command(runtime, args.subscriber)
    if args.command == "send":
        wanted = Wanted(args.subscriber, args.to)
        return send_command(runtime, wanted, dry_run=args.dry_run, edition=args.edition)
    if args.command == "retry":
        return retry_command(runtime, now=args.now, unconfirmed=args.unconfirmed)
    if args.command == "status":
        return status_command(runtime)
    if args.command == "serve":
        return serve_command(runtime, args.host, args.port, public=args.public)
    return schedule_command(runtime, log_json=args.log_json)


def _err(message: str) -> None:
    print(message, file=sys.stderr)
