import contextlib
import os
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from digest.collect import collect
from digest.config import Settings
from digest.deliver import MemoryMailer, SmtpMailer
from digest.dispatch import SendContext, send_digests
from digest.models import SendState
from digest.runtime import Runtime

from .conftest import NOW, Project
from .servers import smtp_server


def context_at(runtime: Runtime, when: object) -> SendContext:
    return replace(runtime.send_context, clock=lambda: when)


def smtp_settings(project: Project, port: int) -> Settings:
    return project.settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="none")


def collected(runtime: Runtime) -> Runtime:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    return runtime


def test_second_send_of_the_same_edition_mails_nobody(runtime: Runtime) -> None:
    ctx = collected(runtime).send_context
    mailer = MemoryMailer()

    first = send_digests(runtime.subscribers, ctx, lambda: mailer)
    second = send_digests(runtime.subscribers, ctx, lambda: mailer)

    assert [o.status for o in first] == ["sent", "sent"]
    assert [o.status for o in second] == ["already sent", "already sent"]
    assert sorted(e.recipient for e in mailer.sent) == ["farmer@example.org", "sailor@example.com"]


def test_dry_run_sends_and_records_nothing(runtime: Runtime) -> None:
    ctx = collected(runtime).send_context
    mailer = MemoryMailer()

    outcomes = send_digests(runtime.subscribers, ctx, lambda: mailer, dry_run=True)

    assert [o.status for o in outcomes] == ["would send", "would send"]
    assert "stories" in outcomes[0].detail
    assert mailer.sent == []
    assert runtime.store.ledger_totals() == {}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_interrupted_send_is_finished_with_the_same_message_id(runtime: Runtime) -> None:
    ctx = collected(runtime).send_context
    sailor = runtime.subscribers[0]

    class ProcessDied(BaseException):
        """Stands for the process being killed while the message is handed over."""

    class CrashingMailer(MemoryMailer):
        def send(self, envelope: object) -> None:
            raise ProcessDied

    with contextlib.suppress(ProcessDied):
        send_digests([sailor], ctx, CrashingMailer)
    (left,) = runtime.store.sends_in(SendState.SENDING)
    assert left.state is SendState.SENDING

    mailer = MemoryMailer()
    outcomes = send_digests([sailor], ctx, lambda: mailer)

    assert [o.status for o in outcomes] == ["sent"]
    (envelope,) = mailer.sent
    assert envelope.message_id == left.message_id
    assert envelope.data == runtime.store.message_of(left)
    assert send_digests([sailor], ctx, lambda: mailer)[0].status == "already sent"
    assert len(mailer.sent) == 1


def test_temporary_failure_is_deferred_then_delivered(project: Project, runtime: Runtime) -> None:
    ctx = collected(runtime).send_context
    with smtp_server() as server:
        server.handler.refuse_data["sailor@example.com"] = "451 4.3.0 Mailbox busy"
        settings = smtp_settings(project, server.port)
        with SmtpMailer(settings) as mailer:
            first = send_digests(runtime.subscribers, ctx, lambda: mailer)
        del server.handler.refuse_data["sailor@example.com"]
        with SmtpMailer(settings) as mailer:
            too_soon = send_digests(runtime.subscribers, ctx, lambda: mailer)
            later = context_at(runtime, NOW + timedelta(minutes=10))  # past the first backoff
            second = send_digests(runtime.subscribers, later, lambda: mailer)

    assert {o.email: o.status for o in first} == {
        "sailor@example.com": "deferred",
        "farmer@example.org": "sent",
    }
    assert "451" in first[0].detail
    assert {o.email: o.status for o in too_soon}["sailor@example.com"] == "deferred"
    assert "next attempt at" in too_soon[0].detail
    assert {o.email: o.status for o in second} == {
        "sailor@example.com": "sent",
        "farmer@example.org": "already sent",
    }
    recipients = sorted(r.recipients[0] for r in server.received)
    assert recipients == ["farmer@example.org", "sailor@example.com"]


def test_permanent_failure_is_recorded_and_never_retried(
    project: Project, runtime: Runtime
) -> None:
    ctx = collected(runtime).send_context
    with smtp_server() as server:
        server.handler.refuse_rcpt["sailor@example.com"] = "550 5.1.1 No such mailbox"
        settings = smtp_settings(project, server.port)
        with SmtpMailer(settings) as mailer:
            first = send_digests(runtime.subscribers, ctx, lambda: mailer)
            again = send_digests(runtime.subscribers, ctx, lambda: mailer)

    assert [o.status for o in first] == ["failed", "sent"]
    assert "550" in first[0].detail
    assert [o.status for o in again] == ["failed", "already sent"]
    assert [r.recipients for r in server.received] == [["farmer@example.org"]]
    assert runtime.store.ledger_totals() == {"failed": 1, "sent": 1}


def test_next_digest_holds_only_what_arrived_since_the_last(
    project: Project, runtime: Runtime
) -> None:
    ctx = collected(runtime).send_context
    mailer = MemoryMailer()
    send_digests(runtime.subscribers[:1], ctx, lambda: mailer)
    tomorrow = NOW + timedelta(days=1)

    quiet = send_digests(runtime.subscribers[:1], context_at(runtime, tomorrow), lambda: mailer)
    path = project.root / "articles" / "ferry.txt"
    path.write_text(
        "Coast\n\nFerry Timetable Extended for Winter Weekends\n\nMore sailings.\n"
        "Bayside Courier\n\nThe ferry will run on Sundays too.\n",
        encoding="utf-8",
    )
    os.utime(path, (tomorrow.timestamp(), tomorrow.timestamp()))
    collect(runtime.sources, runtime.store, runtime.settings, tomorrow)
    fresh = send_digests(runtime.subscribers[:1], context_at(runtime, tomorrow), lambda: mailer)

    assert quiet[0].status == "nothing new"
    assert fresh[0].status == "sent"
    text = message_from_bytes(mailer.sent[-1].data, policy=policy.default).get_body(("plain",))
    content = text.get_content()  # type: ignore[union-attr]
    assert "Ferry Timetable Extended" in content
    assert "Gull Point" not in content


def test_articles_older_than_the_maximum_age_are_left_out(project: Project) -> None:
    late = project.runtime(now=NOW + timedelta(days=30))
    try:
        collect(late.sources, late.store, late.settings, NOW + timedelta(days=30))
        outcomes = send_digests(late.subscribers, late.send_context, MemoryMailer)
    finally:
        late.close()

    assert [o.status for o in outcomes] == ["nothing new", "nothing new"]


def test_a_continuing_story_links_back_to_what_was_sent(project: Project, runtime: Runtime) -> None:
    ctx = collected(runtime).send_context
    mailer = MemoryMailer()
    send_digests(runtime.subscribers[:1], ctx, lambda: mailer)
    tomorrow = NOW + timedelta(days=1)
    path = project.root / "articles" / "keepers-farewell.txt"
    path.write_text(
        "Coast\n\nGull Point Lighthouse Keepers Honoured at Farewell Dinner\n\n"
        "The retired keepers of the Gull Point lighthouse were honoured on Wednesday. "
        "The automatic beacon has now run for a day.\nBayside Courier\n\n"
        "Wendy and Tom Marsh were given a model of the lighthouse.\n",
        encoding="utf-8",
    )
    os.utime(path, (tomorrow.timestamp(), tomorrow.timestamp()))
    collect(runtime.sources, runtime.store, runtime.settings, tomorrow)

    send_digests(runtime.subscribers[:1], context_at(runtime, tomorrow), lambda: mailer)

    message = message_from_bytes(mailer.sent[-1].data, policy=policy.default)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Gull Point Lighthouse Keepers Honoured at Farewell Dinner" in text
    assert "Earlier: Last Lighthouse Keepers of Gull Point Hand Over to Automatic Beacon" in text
    assert text.count("Harbour Board Approves New Pier") == 0  # sent yesterday, not again
