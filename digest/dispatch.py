"""Send each subscriber's digest once: compose, record in the ledger, deliver, record again.

The ledger row is written (state `queued`, with the message bytes) before a mailer sees
it, set to `sending` just before the hand-over and to its outcome right after: `sent`,
`deferred` (a temporary failure, tried again from `next_attempt_at` with exponential
backoff) or `failed` (refused for good, or out of retries). A run that finds rows left
`queued` or due `deferred` delivers those stored bytes, with the same Message-ID, so a
crash loses nothing. Rows left `sending` are the one ambiguous case (the server may have
accepted the message just before the crash): with DIGEST_RESEND_UNCONFIRMED=yes they are
sent again with the same Message-ID (receivers can spot the copy by its id); with `no`
they become `unconfirmed`, are listed by `status` and sent only by `retry --unconfirmed`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from threading import Lock

from digest.compose import Composer
from digest.config import Settings
from digest.editions import edition_id, next_edition
from digest.models import SendRecord, SendState, Subscriber
from digest.pacing import HOUR, RateLimiter, RetryPolicy
from digest.store import Store
from digest.workers import DeliveryPool, MailerFactory, OutcomeHandler, SendOutcome

Clock = Callable[[], datetime]

__all__ = ["Clock", "SendContext", "SendOutcome", "retry_sends", "send_digests"]


@dataclass(frozen=True)
class SendContext:
    settings: Settings
    store: Store
    composer: Composer
    labels: Mapping[str, str]
    clock: Clock
    retry: RetryPolicy | None = None  # None: from settings

    @property
    def retry_policy(self) -> RetryPolicy:
        s = self.settings
        return self.retry or RetryPolicy(s.retry_limit, s.retry_base_seconds)


def send_digests(
    subscribers: Iterable[Subscriber],
    ctx: SendContext,
    mailers: MailerFactory,
    *,
    dry_run: bool = False,
    edition: str = "",
    on_outcome: OutcomeHandler | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[SendOutcome]:
    """Deliver what earlier runs left due, then this edition to each subscriber, once.

    `edition` names the edition instead of each subscriber's local date (an extra edition).
    When `should_stop()` turns true, the messages in hand are finished and recorded and the
    rest is left for the next run.
    """
    subscribers = list(subscribers)
    wanted = {s.email.lower() for s in subscribers}
    outcomes = Outcomes(on_outcome)
    pool = None if dry_run else _pool(ctx, mailers, outcomes, should_stop)
    try:
        handed: set[tuple[str, str]] = set()
        if pool is not None:
            handed = _resume(ctx, pool, wanted, outcomes)
        suppressed = ctx.store.suppressed()
        for subscriber in subscribers:
            if should_stop():
                break
            key = (subscriber.email.lower(), edition or edition_id(subscriber, ctx.clock()))
            if key in handed:
                continue
            if key[0] in suppressed:
                outcomes.add(SendOutcome(*key, "suppressed", suppressed[key[0]].reason))
                continue
            record_or_outcome = _compose(subscriber, key[1], ctx, dry_run=dry_run)
            if isinstance(record_or_outcome, SendOutcome):
                outcomes.add(record_or_outcome)
            elif pool is not None:
                pool.submit(record_or_outcome)
    finally:
        if pool is not None:
            pool.finish()
    return outcomes.done


def retry_sends(
    ctx: SendContext,
    mailers: MailerFactory,
    *,
    unconfirmed: bool = False,
    ignore_backoff: bool = False,
    on_outcome: OutcomeHandler | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[SendOutcome]:
    """Deliver queued and due deferred rows (all deferred with `ignore_backoff`) now."""
    if unconfirmed:
        with ctx.store.lock:
            ctx.store.requeue_unconfirmed(ctx.clock())
    outcomes = Outcomes(on_outcome)
    pool = _pool(ctx, mailers, outcomes, should_stop)
    try:
        _resume(ctx, pool, None, outcomes, ignore_backoff=ignore_backoff)
    finally:
        pool.finish()
    return outcomes.done


class Outcomes:
    """What happened to each digest, in order, from any thread; told to `on_outcome` too."""

    def __init__(self, on_outcome: OutcomeHandler | None) -> None:
        self.done: list[SendOutcome] = []
        self._on_outcome = on_outcome
        self._lock = Lock()

    def add(self, outcome: SendOutcome) -> None:
        with self._lock:
            self.done.append(outcome)
            if self._on_outcome is not None:
                self._on_outcome(outcome)


def _pool(
    ctx: SendContext, mailers: MailerFactory, outcomes: Outcomes, should_stop: Callable[[], bool]
) -> DeliveryPool:
    s, now = ctx.settings, ctx.clock()
    earlier = [t.timestamp() for t in ctx.store.sent_since(now - timedelta(seconds=HOUR))]
    limiter = RateLimiter(
        s.smtp_rate_per_second, s.smtp_rate_per_hour, earlier=earlier,
        clock=lambda: ctx.clock().timestamp(),
    )  # fmt: skip
    return DeliveryPool(ctx, mailers, s.smtp_connections, limiter, outcomes.add, should_stop)


def _resume(
    ctx: SendContext,
    pool: DeliveryPool,
    wanted: set[str] | None,
    outcomes: Outcomes,
    *,
    ignore_backoff: bool = False,
) -> set[tuple[str, str]]:
    """Hand the pool every unfinished row that is due; report the ones still waiting."""
    now = ctx.clock()
    with ctx.store.lock:
        ctx.store.interrupted_sends(ctx.settings.resend_unconfirmed == "yes", now)
        unfinished = ctx.store.sends_in(SendState.QUEUED, SendState.DEFERRED)
    handed = set()
    for record in unfinished:
        if wanted is not None and record.subscriber not in wanted:
            continue
        handed.add(record.key)
        waiting = record.next_attempt_at is not None and record.next_attempt_at > now
        if waiting and not ignore_backoff:
            detail = (
                f"next attempt at {record.next_attempt_at:%Y-%m-%d %H:%M %Z}: {record.last_error}"
            )
            outcomes.add(SendOutcome(*record.key, "deferred", detail))
        else:
            pool.submit(record)
    return handed


def _compose(
    subscriber: Subscriber, edition_key: str, ctx: SendContext, *, dry_run: bool
) -> SendRecord | SendOutcome:
    """A queued ledger row with the composed message, or why there is none."""
    email, now = subscriber.email.lower(), ctx.clock()
    existing = ctx.store.send_record(email, edition_key)
    if existing is not None:
        return SendOutcome(email, edition_key, _status_of(existing), existing.last_error)
    edition = next_edition(subscriber, ctx.store, ctx.labels, ctx.settings, now)
    edition = replace(edition, id=edition_key)
    if not edition.stories:
        return SendOutcome(email, edition_key, "nothing new")
    if dry_run:
        detail = f"{len(edition.stories)} stories: {ctx.composer.render(edition).subject}"
        return SendOutcome(email, edition_key, "would send", detail)
    envelope = ctx.composer.envelope(edition)
    record = SendRecord(
        subscriber=email, edition=edition_key, message_id=envelope.message_id,
        state=SendState.QUEUED, message=envelope.data, covered_until=now,
    )  # fmt: skip
    try:
        with ctx.store.lock:
            ctx.store.queue_send(record, now)
    except sqlite3.IntegrityError:  # another process queued this digest a moment ago
        return SendOutcome(email, edition_key, "queued elsewhere", "another run is sending it")
    return record


def _status_of(record: SendRecord) -> str:
    if record.state is SendState.SENT:
        return "already sent"
    return record.state.value
