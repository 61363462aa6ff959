from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from digest.collect import collect
from digest.deliver import MemoryMailer
from digest.models import Frequency, Subscriber
from digest.runtime import Runtime
from digest.schedule import build_scheduler, next_send_time

from .conftest import NOW


def subscriber(**fields: object) -> Subscriber:
    base: dict[str, object] = {"email": "a@example.com", "name": "A", "topics": ("coast",)}
    return Subscriber(**{**base, **fields})  # type: ignore[arg-type]


def test_daily_digest_is_due_at_local_send_time() -> None:
    reader = subscriber(timezone="America/New_York", send_at=time(6, 30))
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 07:00 in New York: today's has passed

    due = next_send_time(reader, now)

    assert due.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None) == datetime(
        2026, 11, 27, 6, 30
    )
    assert due.astimezone(UTC) == datetime(2026, 11, 27, 11, 30, tzinfo=UTC)


def test_weekday_digest_skips_the_weekend() -> None:
    reader = subscriber(frequency=Frequency.WEEKDAYS, timezone="Europe/London", send_at=time(7, 0))
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)

    due = next_send_time(reader, friday_evening)

    assert due.astimezone(ZoneInfo("Europe/London")).strftime("%a %H:%M") == "Mon 07:00"


def test_weekly_digest_on_chosen_days() -> None:
    reader = subscriber(
        frequency=Frequency.WEEKLY, days=("sat",), timezone="Asia/Tokyo", send_at=time(8, 15)
    )

    due = next_send_time(reader, NOW)

    local = due.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.strftime("%a"), local.hour, local.minute) == ("Sat", 8, 15)
    assert local.date().isoformat() == "2026-11-28"


def test_local_time_holds_across_a_daylight_saving_change() -> None:
    reader = subscriber(timezone="Europe/London", send_at=time(7, 0))
    before = next_send_time(reader, datetime(2026, 3, 27, 12, 0, tzinfo=UTC))  # due Sat, GMT
    after = next_send_time(reader, datetime(2026, 3, 29, 12, 0, tzinfo=UTC))  # due Mon, BST

    assert before.astimezone(UTC).hour == 7
    assert after.astimezone(UTC).hour == 6
    assert before.astimezone(ZoneInfo("Europe/London")).hour == 7
    assert after.astimezone(ZoneInfo("Europe/London")).hour == 7


def test_scheduler_has_a_collect_job_and_a_send_job_per_subscriber(runtime: Runtime) -> None:
    scheduler = build_scheduler(runtime, MemoryMailer, BackgroundScheduler())

    jobs = {job.id: job for job in scheduler.get_jobs()}

    assert set(jobs) == {"collect", "send:sailor@example.com", "send:farmer@example.org"}
    farmer_trigger = jobs["send:farmer@example.org"].trigger
    assert str(farmer_trigger.timezone) == "America/New_York"
    assert "mon-fri" in str(farmer_trigger)


def test_send_job_delivers_through_the_ledger(runtime: Runtime) -> None:
    collect(runtime.sources, runtime.store, runtime.settings, NOW)
    mailers: list[MemoryMailer] = []

    def factory() -> MemoryMailer:
        mailers.append(MemoryMailer())
        return mailers[-1]

    scheduler = build_scheduler(runtime, factory, BackgroundScheduler())
    job = scheduler.get_job("send:sailor@example.com")
    job.func(*job.args)
    job.func(*job.args)  # a second firing on the same day sends nothing

    assert [len(m.sent) for m in mailers] == [1]  # no mailer is opened for nothing to send
    assert mailers[0].sent[0].recipient == "sailor@example.com"
    assert runtime.store.ledger_totals() == {"sent": 1}


def test_collect_job_fills_the_store(runtime: Runtime) -> None:
    scheduler = build_scheduler(runtime, MemoryMailer, BackgroundScheduler())
    job = scheduler.get_job("collect")

    job.func(*job.args)

    assert len(runtime.store.articles_seen_after(None)) == 6
