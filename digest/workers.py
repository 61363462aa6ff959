"""Delivery workers: each holds one mailer (one SMTP connection) and hands over ledger rows.

SMTP_CONNECTIONS workers share one rate limiter and the store (through the context's
lock). A row is marked `sending` just before its hand-over and gets its outcome right
after, so the ambiguous moment is one SMTP transaction long.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from digest.compose import outbox_name
from digest.deliver import Mailer
from digest.errors import DeliveryError
from digest.models import Envelope, SendRecord, SendState
from digest.pacing import RateLimiter
from digest.store import BOUNCED
from digest.store.ledger import GAVE_UP, Outcome

if TYPE_CHECKING:
    from digest.dispatch import SendContext

log = logging.getLogger(__name__)
MailerFactory = Callable[[], Mailer]


@dataclass(frozen=True)
class SendOutcome:
    email: str
    edition: str
    status: str  # sent, already sent, nothing new, would send, deferred, failed, suppressed, ...
    detail: str = ""

    @property
    def is_failure(self) -> bool:
        return self.status in {"deferred", "failed", "unconfirmed"}


OutcomeHandler = Callable[[SendOutcome], None]


class DeliveryPool:
    """`connections` threads taking rows from a short queue; `finish` waits for them all.

    With one connection there is no thread: `submit` delivers in the caller's thread, which
    saves a hand-over per message.
    """

    def __init__(
        self,
        ctx: SendContext,
        mailers: MailerFactory,
        connections: int,
        limiter: RateLimiter,
        report: OutcomeHandler,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self._ctx, self._mailers, self._limiter, self._report = ctx, mailers, limiter, report
        self._should_stop = should_stop
        self._queue: queue.Queue[SendRecord | None] = queue.Queue(maxsize=2 * connections)
        self._stop = threading.Event()
        self._inline_mailer: Mailer | None = None
        self._threads = [
            threading.Thread(target=self._work, name=f"deliver-{n}", daemon=True)
            for n in range(connections if connections > 1 else 0)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, record: SendRecord) -> None:
        """Deliver `record` (now, or on a worker); once stopping, leave it in the ledger."""
        if self._should_stop():
            return
        if self._threads:
            self._queue.put(record)
            return
        if self._inline_mailer is None:
            self._inline_mailer = self._mailers()
        self._report(deliver(record, self._ctx, self._inline_mailer, self._limiter))

    def finish(self) -> None:
        """Let the workers empty the queue, then stop them. On Ctrl-C, each finishes the
        message in hand and the rest stay queued in the ledger for the next run."""
        if self._inline_mailer is not None:
            self._inline_mailer.close()
        try:
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join()
        except BaseException:
            self._stop.set()
            for thread in self._threads:
                thread.join(timeout=30)
            raise

    def _work(self) -> None:
        mailer: Mailer | None = None
        try:
            while (record := self._queue.get()) is not None:
                if self._stop.is_set() or self._should_stop():
                    continue  # left queued in the ledger
                if mailer is None:
                    mailer = self._mailers()
                self._report(deliver(record, self._ctx, mailer, self._limiter))
        finally:
            if mailer is not None:
                mailer.close()


def deliver(
    record: SendRecord, ctx: SendContext, mailer: Mailer, limiter: RateLimiter
) -> SendOutcome:
    """Hand one ledger row's stored message to `mailer` and record what happened."""
    store, settings = ctx.store, ctx.settings
    if limiter.acquire() is None:
        retry_at = datetime.fromtimestamp(limiter.hour_frees_at(), tz=UTC)
        with ctx.store.lock:
            store.record_outcome(
                record, Outcome(SendState.DEFERRED, record.last_error, retry_at), ctx.clock()
            )
        detail = f"SMTP_RATE_PER_HOUR reached; next attempt at {retry_at:%H:%M:%S %Z}"
        return SendOutcome(*record.key, "throttled", detail)
    with ctx.store.lock:
        data = store.start_sending(record, ctx.clock())
    envelope = Envelope(
        sender=settings.sender_address, recipient=record.subscriber,
        message_id=record.message_id, data=data,
        name=outbox_name(record.edition, record.subscriber),
    )  # fmt: skip
    try:
        mailer.send(envelope)
        outcome = Outcome(SendState.SENT)
    except DeliveryError as error:
        outcome = _failure(record, ctx, str(error), permanent=error.permanent)
    except Exception as error:  # a bug must not stop the batch: keep the row for a retry
        log.exception("unexpected error delivering to %s", record.subscriber)
        outcome = _failure(record, ctx, f"unexpected error: {error}", permanent=False)
    with ctx.store.lock:
        store.record_outcome(record, outcome, ctx.clock())
        if outcome.bounce and store.bounces_of(record.subscriber) >= settings.suppress_after:
            store.suppress(record.subscriber, BOUNCED, outcome.error, ctx.clock())
    return SendOutcome(*record.key, outcome.state.value, _detail(outcome))


def _failure(record: SendRecord, ctx: SendContext, error: str, *, permanent: bool) -> Outcome:
    if permanent:
        return Outcome(SendState.FAILED, error, bounce=True)
    retry_at = ctx.retry_policy.next_attempt(record.attempts + 1, ctx.clock())
    if retry_at is None:
        return Outcome(SendState.FAILED, f"{GAVE_UP} after {record.attempts + 1} attempts: {error}")
    return Outcome(SendState.DEFERRED, error, retry_at)


def _detail(outcome: Outcome) -> str:
    if outcome.next_attempt_at is not None:
        return f"{outcome.error}; next attempt at {outcome.next_attempt_at:%Y-%m-%d %H:%M %Z}"
    return outcome.error
