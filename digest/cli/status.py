"""`status`: what the send ledger says: totals, what waits, what failed, who is suppressed."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from digest.cli.exits import EXIT_OK
from digest.due import next_slot
from digest.models import SendRecord, SendState
from digest.runtime import Runtime


def status_command(runtime: Runtime) -> int:
    _print_schedule(runtime)
    _print_sources(runtime)
    _print_ledger(runtime)
    return EXIT_OK


def _print_schedule(runtime: Runtime) -> None:
    """Each subscriber's next digest (their time and UTC) and when the last one went out."""
    now, last_sent = runtime.clock(), runtime.store.last_sent()
    print("Subscribers:")
    for subscriber in runtime.subscribers:
        slot = next_slot(subscriber, now)
        local = slot.at.astimezone(ZoneInfo(subscriber.timezone))
        sent = last_sent.get(subscriber.email.lower())
        last = f"last sent {sent:%Y-%m-%d %H:%M} UTC" if sent else "nothing sent yet"
        print(
            f"  {subscriber.email}: next {local:%Y-%m-%d %H:%M %Z} "
            f"({slot.at:%Y-%m-%d %H:%M} UTC, {subscriber.frequency}); {last}"
        )


def _print_sources(runtime: Runtime) -> None:
    collected = runtime.store.last_collected()
    print(f"\nLast collect: {collected:%Y-%m-%d %H:%M} UTC" if collected else "\nNever collected.")
    failing = [s for s in runtime.store.all_source_states().values() if s.failures]
    for state in failing:
        name = state.name or state.location
        print(f"  failing: {name} ({state.failures} in a row): {state.last_error}")


def _print_ledger(runtime: Runtime) -> None:
    store = runtime.store
    totals = store.ledger_totals()
    states = ", ".join(f"{totals.get(s.value, 0)} {s.value}" for s in SendState)
    print(f"\nSend ledger ({runtime.settings.database}): {states}.")
    attention = store.sends_needing_attention()
    for state in (SendState.SENDING, SendState.DEFERRED, SendState.UNCONFIRMED, SendState.FAILED):
        rows = [r for r in attention if r.state is state]
        if rows:
            print(f"\n{state.value.capitalize()} ({len(rows)}):")
            for record in rows:
                print(f"  {_line(record)}")
    if any(r.state is SendState.SENDING for r in attention):
        print(
            "\nSending digests are being handed over now, or were when a process was killed: "
            "the next run resends those with the same Message-ID "
            "(DIGEST_RESEND_UNCONFIRMED=yes) or holds them as unconfirmed (no)."
        )
    if any(r.state is SendState.UNCONFIRMED for r in attention):
        print(
            "\nUnconfirmed digests were being handed over when the process stopped: the server "
            "may have them. `retry --unconfirmed` sends them again with the same Message-ID."
        )
    suppressed = store.suppressed()
    print(
        f"\nSuppressed addresses ({len(suppressed)}):"
        if suppressed
        else "\nNo suppressed addresses."
    )
    for entry in suppressed.values():
        detail = f": {entry.detail}" if entry.detail else ""
        print(f"  {entry.email} {entry.reason} since {entry.created_at:%Y-%m-%d %H:%M}{detail}")


def _line(record: SendRecord) -> str:
    line = f"{record.edition} {record.subscriber}, {record.attempts} attempt(s)"
    if record.next_attempt_at is not None and record.state is SendState.DEFERRED:
        line += f", next at {record.next_attempt_at:%Y-%m-%d %H:%M %Z}"
    return f"{line}: {record.last_error}" if record.last_error else line
