"""Send each subscriber's digest once: compose, record in the ledger, deliver, record again.

The ledger row is written (state `queued`, with the message bytes) before the mailer is
called, set to `sending` just before the hand-over and to `sent` right after. A run that
finds rows left `queued`, `sending` or `deferred` delivers those stored bytes again, with
the same Message-ID, so a crash loses nothing; the only ambiguous moment (server accepted,
row not yet `sent`) may produce one duplicate that receiving systems can spot by its id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from digest.compose import Composer, outbox_name
from digest.config import Settings
from digest.deliver import Mailer
from digest.editions import edition_id, next_edition
from digest.errors import DeliveryError
from digest.models import Envelope, SendRecord, SendState, Subscriber
from digest.store import Store

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SendOutcome:
    email: str
    edition: str
    status: str  # sent, already sent, nothing new, would send, deferred, failed
    detail: str = ""

    @property
    def is_failure(self) -> bool:
        return self.status in {"deferred", "failed"}


@dataclass(frozen=True)
class SendContext:
    settings: Settings
    store: Store
    composer: Composer
    labels: Mapping[str, str]
    clock: Clock


def send_digests(
    subscribers: Iterable[Subscriber], ctx: SendContext, mailer: Mailer, *, dry_run: bool = False
) -> list[SendOutcome]:
    """Deliver what earlier runs left unfinished, then today's digest to each subscriber."""
    subscribers = list(subscribers)
    outcomes: list[SendOutcome] = []
    if not dry_run:
        wanted = {s.email.lower() for s in subscribers}
        for record in ctx.store.unfinished_sends():
            if record.subscriber in wanted:
                outcomes.append(deliver_record(record, ctx, mailer))
    done = {(o.email, o.edition) for o in outcomes}
    for subscriber in subscribers:
        key = (subscriber.email.lower(), edition_id(subscriber, ctx.clock()))
        if key not in done:
            outcomes.append(_send_one(subscriber, ctx, mailer, dry_run=dry_run))
    return outcomes


def _send_one(
    subscriber: Subscriber, ctx: SendContext, mailer: Mailer, *, dry_run: bool
) -> SendOutcome:
    now = ctx.clock()
    edition_key = edition_id(subscriber, now)
    existing = ctx.store.send_record(subscriber.email, edition_key)
    if existing is not None:
        return SendOutcome(
            subscriber.email.lower(), edition_key, _status_of(existing), existing.last_error
        )
    edition = next_edition(subscriber, ctx.store, ctx.labels, ctx.settings, now)
    if not edition.stories:
        return SendOutcome(subscriber.email.lower(), edition_key, "nothing new")
    if dry_run:
        detail = f"{len(edition.stories)} stories: {ctx.composer.render(edition).subject}"
        return SendOutcome(subscriber.email.lower(), edition_key, "would send", detail)
    envelope = ctx.composer.envelope(edition)
    record = SendRecord(
        subscriber=subscriber.email.lower(), edition=edition_key, message_id=envelope.message_id,
        state=SendState.QUEUED, message=envelope.data, covered_until=now,
    )  # fmt: skip
    ctx.store.queue_send(record, now)
    return deliver_record(record, ctx, mailer)


def deliver_record(record: SendRecord, ctx: SendContext, mailer: Mailer) -> SendOutcome:
    """Hand one ledger row's stored message to the mailer and record what happened."""
    store, settings = ctx.store, ctx.settings
    store.mark_send(record.subscriber, record.edition, SendState.SENDING, ctx.clock())
    envelope = Envelope(
        sender=settings.sender_address, recipient=record.subscriber,
        message_id=record.message_id, data=record.message,
        name=outbox_name(record.edition, record.subscriber),
    )  # fmt: skip
    try:
        mailer.send(envelope)
    except DeliveryError as error:
        state = SendState.FAILED if error.permanent else SendState.DEFERRED
        store.mark_send(record.subscriber, record.edition, state, ctx.clock(), str(error))
        return SendOutcome(record.subscriber, record.edition, state.value, str(error))
    store.mark_send(record.subscriber, record.edition, SendState.SENT, ctx.clock())
    return SendOutcome(record.subscriber, record.edition, "sent")


def _status_of(record: SendRecord) -> str:
    if record.state is SendState.SENT:
        return "already sent"
    return record.state.value
