"""What the send ledger does with failures, limits, suppressions and interrupted sends."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest

from digest.collect import collect
from digest.deliver import MemoryMailer, mailer_for
from digest.dispatch import SendContext, retry_sends, send_digests
from digest.errors import DeliveryError
from digest.models import Envelope, SendState
from digest.runtime import Runtime
from digest.store import UNSUBSCRIBED

from .conftest import NOW, Project
from .servers import smtp_server


class RefusingMailer(MemoryMailer):
    """Refuses every message with the given reply; counts the attempts."""

    def __init__(self, reply: str, *, permanent: bool) -> None:
        super().__init__()
        self.reply, self.permanent, self.attempts = reply, permanent, 0

    def send(self, envelope: Envelope) -> None:
        self.attempts += 1
        raise DeliveryError(self.reply, permanent=self.permanent)


class ProcessDied(BaseException):
    """Stands for the process being killed while a message is handed over."""


class DyingMailer(MemoryMailer):
    def send(self, envelope: Envelope) -> None:
        raise ProcessDied


def at(runtime: Runtime, when: datetime, **settings: object) -> SendContext:
    ctx = runtime.send_context
    return replace(ctx, clock=lambda: when, settings=replace(ctx.settings, **settings))


def sailor_only(runtime: Runtime) -> Runtime:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    return replace(runtime, subscribers=runtime.subscribers[:1])


def test_temporary_failures_back_off_then_give_up(runtime: Runtime) -> None:
    runtime = sailor_only(runtime)
    mailer = RefusingMailer("451 4.3.0 try later", permanent=False)
    first = send_digests(runtime.subscribers, at(runtime, NOW, retry_limit=3), lambda: mailer)
    record = runtime.store.sends_in(SendState.DEFERRED)[0]
    waits = [record.next_attempt_at]

    for _ in range(2):
        due = record.next_attempt_at
        assert due is not None
        outcomes = retry_sends(at(runtime, due, retry_limit=3), lambda: mailer)
        record = (runtime.store.sends_in(SendState.DEFERRED) or [record])[0]
        waits.append(record.next_attempt_at)

    assert first[0].status == "deferred"
    assert outcomes[0].status == "failed"
    assert "gave up after 3 attempts: 451 4.3.0 try later" in outcomes[0].detail
    assert mailer.attempts == 3
    assert waits[0] is not None and waits[1] is not None
    assert NOW + timedelta(seconds=150) <= waits[0] <= NOW + timedelta(seconds=300)
    assert waits[1] - waits[0] >= timedelta(seconds=300)  # the second wait is longer
    assert runtime.store.suppressed() == {}  # running out of retries is not a bounce


def test_a_deferred_digest_waits_for_its_next_attempt(runtime: Runtime) -> None:
    runtime = sailor_only(runtime)
    send_digests(
        runtime.subscribers, at(runtime, NOW), lambda: RefusingMailer("421 busy", permanent=False)
    )
    mailer = MemoryMailer()

    early = retry_sends(at(runtime, NOW + timedelta(seconds=1)), lambda: mailer)
    forced = retry_sends(
        at(runtime, NOW + timedelta(seconds=1)), lambda: mailer, ignore_backoff=True
    )

    assert early[0].status == "deferred" and "next attempt at" in early[0].detail
    assert forced[0].status == "sent"
    assert len(mailer.sent) == 1


def test_permanent_refusals_suppress_the_address(runtime: Runtime) -> None:
    runtime = sailor_only(runtime)
    mailer = RefusingMailer("550 5.1.1 no such user", permanent=True)
    days = [NOW + timedelta(days=n) for n in range(3)]
    statuses = []
    for day in days:
        ctx = at(runtime, day, suppress_after=2)
        statuses.append(
            send_digests(runtime.subscribers, ctx, lambda: mailer, edition=f"{day:%F}")[0]
        )

    assert [o.status for o in statuses] == ["failed", "failed", "suppressed"]
    assert mailer.attempts == 2
    (entry,) = runtime.store.suppressed().values()
    assert (entry.email, entry.reason, entry.detail) == (
        "sailor@example.com", "bounced", "550 5.1.1 no such user",
    )  # fmt: skip


def test_unsubscribed_addresses_are_never_sent_to(runtime: Runtime) -> None:
    runtime = sailor_only(runtime)
    runtime.store.suppress("Sailor@Example.com", UNSUBSCRIBED, "one-click", NOW)
    mailer = MemoryMailer()

    outcomes = send_digests(runtime.subscribers, at(runtime, NOW), lambda: mailer)

    assert [(o.status, o.detail) for o in outcomes] == [("suppressed", "unsubscribed")]
    assert mailer.sent == [] and runtime.store.ledger_totals() == {}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_an_interrupted_send_can_be_held_for_review(runtime: Runtime) -> None:
    runtime = sailor_only(runtime)
    hold = at(runtime, NOW, resend_unconfirmed="no")
    with contextlib.suppress(ProcessDied):
        send_digests(runtime.subscribers, hold, DyingMailer)
    (interrupted,) = runtime.store.sends_in(SendState.SENDING)
    mailer = MemoryMailer()

    again = send_digests(runtime.subscribers, hold, lambda: mailer)
    sent_before_retry = len(mailer.sent)
    (held,) = runtime.store.sends_in(SendState.UNCONFIRMED)
    resent = retry_sends(hold, lambda: mailer, unconfirmed=True)

    assert [o.status for o in again] == ["unconfirmed"]
    assert sent_before_retry == 0
    assert held.last_error == "interrupted while sending"
    assert [o.status for o in resent] == ["sent"]
    assert [e.message_id for e in mailer.sent] == [interrupted.message_id]


def test_the_hourly_limit_defers_the_rest_until_the_hour_frees(runtime: Runtime) -> None:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    mailer = MemoryMailer()

    outcomes = send_digests(
        runtime.subscribers, at(runtime, NOW, smtp_rate_per_hour=1), lambda: mailer
    )
    waiting = retry_sends(
        at(runtime, NOW + timedelta(minutes=30), smtp_rate_per_hour=1), lambda: mailer
    )
    later = retry_sends(
        at(runtime, NOW + timedelta(minutes=61), smtp_rate_per_hour=1), lambda: mailer
    )

    assert sorted(o.status for o in outcomes) == ["sent", "throttled"]
    assert "SMTP_RATE_PER_HOUR" in next(o.detail for o in outcomes if o.status == "throttled")
    assert [o.status for o in waiting] == ["deferred"]
    assert [o.status for o in later] == ["sent"]
    assert len(mailer.sent) == 2


def test_parallel_connections_deliver_each_digest_once(project: Project) -> None:
    lines = ["subscribers:"] + [
        f"  - {{email: reader{n}@example.com, name: Reader {n}, topics: [coast]}}"
        for n in range(40)
    ]
    (project.root / "subscribers.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with smtp_server() as server:
        runtime = project.runtime(
            SMTP_HOST="127.0.0.1", SMTP_PORT=str(server.port), SMTP_TLS="none", SMTP_CONNECTIONS="4"
        )
        try:
            collect(runtime.sources, runtime.store, runtime.settings, NOW)
            outcomes = send_digests(
                runtime.subscribers, runtime.send_context, lambda: mailer_for(runtime.settings)
            )
        finally:
            runtime.close()

    assert [o.status for o in outcomes] == ["sent"] * 40
    assert sorted(r.recipients[0] for r in server.received) == sorted(
        f"reader{n}@example.com" for n in range(40)
    )
    assert 1 < server.connections <= 4


def test_mailto_unsubscribe_rides_next_to_the_one_click_link(project: Project) -> None:
    runtime = project.runtime(DIGEST_UNSUBSCRIBE_MAILTO="leave@bayside.example.com")
    try:
        collect(runtime.sources, runtime.store, runtime.settings, NOW)
        mailer = MemoryMailer()
        send_digests(runtime.subscribers[:1], runtime.send_context, lambda: mailer)
    finally:
        runtime.close()
    message = message_from_bytes(mailer.sent[0].data, policy=policy.default)

    https, mailto = (part.strip(" <>") for part in message["List-Unsubscribe"].split(","))
    assert https.startswith("https://digest.bayside.example.com/unsubscribe/")
    assert (
        mailto
        == f"mailto:leave@bayside.example.com?subject=unsubscribe%20{https.rsplit('/', 1)[1]}"
    )
