"""When digests are due: slots per frequency, daylight-saving change days, downtime and grace,
the ledger, many zones at one `now`. Pure: every `now` is passed in, nothing sleeps."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.due import SendPlan, Slot, next_slot, next_wake, plan_sends, previous_slot, slot_on
from digest.models import Frequency, Subscriber

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
GRACE = timedelta(hours=1)


def reader(email: str = "a@example.com", **fields: object) -> Subscriber:
    base: dict[str, object] = {"email": email, "name": "A", "topics": ("coast",)}
    return Subscriber(**{**base, **fields})  # type: ignore[arg-type]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def wall(slot: Slot, zone: ZoneInfo) -> str:
    """The slot as the subscriber's clock shows it, with the weekday."""
    return slot.at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %z")


def latest(subscriber: Subscriber, now: datetime) -> Slot:
    slot = previous_slot(subscriber, now)
    assert slot is not None
    return slot


def sends(subscriber: Subscriber, start: datetime, hours: int) -> list[tuple[str, datetime]]:
    """Run the service loop every 5 minutes for `hours`: (period, tick) of each digest sent."""
    recorded: set[tuple[str, str]] = set()
    sent = []
    for step in range(hours * 12 + 1):
        now = start + timedelta(minutes=5 * step)
        for due, slot in plan_sends([subscriber], recorded, now, GRACE).due:
            recorded.add((due.email.lower(), slot.period))
            sent.append((slot.period, now))
    return sent


# --- frequencies


def test_daily_slot_is_send_at_local_time_every_day() -> None:
    daily = reader(timezone="America/New_York", send_at=time(6, 30))
    now = utc(2026, 11, 26, 12, 0)  # 07:00 in New York

    assert previous_slot(daily, now) == Slot("2026-11-26", utc(2026, 11, 26, 11, 30))
    assert next_slot(daily, now) == Slot("2026-11-27", utc(2026, 11, 27, 11, 30))


def test_previous_slot_includes_now_and_next_slot_excludes_it() -> None:
    daily = reader(send_at=time(7, 0))
    at_seven = utc(2026, 11, 26, 7, 0)

    assert previous_slot(daily, at_seven) == Slot("2026-11-26", at_seven)
    assert next_slot(daily, at_seven).period == "2026-11-27"


def test_weekdays_go_from_friday_to_monday() -> None:
    weekdays = reader(frequency=Frequency.WEEKDAYS, timezone="Europe/London")
    friday_evening = utc(2026, 11, 27, 20, 0)
    sunday = utc(2026, 11, 29, 12, 0)

    assert wall(next_slot(weekdays, friday_evening), LONDON) == "Mon 2026-11-30 07:00 +0000"
    assert wall(latest(weekdays, sunday), LONDON) == "Fri 2026-11-27 07:00 +0000"
    assert slot_on(weekdays, date(2026, 11, 28)) is None  # Saturday
    assert slot_on(weekdays, date(2026, 11, 29)) is None  # Sunday
    assert slot_on(weekdays, date(2026, 11, 30)) is not None


def test_weekly_on_several_days() -> None:
    weekly = reader(
        frequency=Frequency.WEEKLY, days=("tue", "sat"), timezone="Asia/Tokyo", send_at=time(8, 15)
    )
    tokyo = ZoneInfo("Asia/Tokyo")
    thursday = utc(2026, 11, 26, 3, 0)

    assert wall(latest(weekly, thursday), tokyo) == "Tue 2026-11-24 08:15 +0900"
    assert wall(next_slot(weekly, thursday), tokyo) == "Sat 2026-11-28 08:15 +0900"
    after_saturday = next_slot(weekly, next_slot(weekly, thursday).at)
    assert wall(after_saturday, tokyo) == "Tue 2026-12-01 08:15 +0900"
    days = [date(2026, 11, 23) + timedelta(days=n) for n in range(7)]
    assert [day.strftime("%a") for day in days if slot_on(weekly, day)] == ["Tue", "Sat"]


def test_period_is_the_local_date_not_the_utc_date() -> None:
    auckland = reader(timezone="Pacific/Auckland", send_at=time(6, 0))

    slot = slot_on(auckland, date(2026, 11, 27))

    assert slot == Slot("2026-11-27", utc(2026, 11, 26, 17, 0))  # NZDT, +13


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        previous_slot(reader(), datetime(2026, 11, 26, 9, 0))


# --- daylight saving


def test_zoneinfo_gives_the_gap_time_the_offset_from_before_the_change() -> None:
    """Pinned: our rule for a send_at in a spring-forward gap leans on this."""
    in_gap = datetime(2026, 3, 8, 2, 30, tzinfo=NEW_YORK)  # fold=0

    assert in_gap.astimezone(UTC) == utc(2026, 3, 8, 7, 30)
    assert in_gap.astimezone(UTC).astimezone(NEW_YORK).hour == 3  # 03:30 EDT
    assert datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK).astimezone(UTC) == utc(2026, 11, 1, 5, 30)


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        ("America/New_York", ("2026-03-07", "2026-03-08", "2026-03-09")),
        ("America/New_York", ("2026-10-31", "2026-11-01", "2026-11-02")),
        ("Europe/London", ("2026-03-28", "2026-03-29", "2026-03-30")),
        ("Europe/London", ("2026-10-24", "2026-10-25", "2026-10-26")),
        ("Australia/Lord_Howe", ("2026-04-04", "2026-04-05", "2026-04-06")),
        ("Australia/Lord_Howe", ("2026-10-03", "2026-10-04", "2026-10-05")),
    ],
)
def test_seven_oclock_stays_seven_oclock_across_a_change(zone: str, days: tuple[str, ...]) -> None:
    seven = reader(timezone=zone)

    slots = [slot_on(seven, date.fromisoformat(day)) for day in days]

    assert [s.at.astimezone(ZoneInfo(zone)).strftime("%H:%M") for s in slots if s] == ["07:00"] * 3
    offsets = {s.at.astimezone(ZoneInfo(zone)).utcoffset() for s in slots if s}
    assert len(offsets) == 2  # the UTC instant moved with the clocks


def test_lord_howe_changes_by_half_an_hour_on_the_first_sundays_of_april_and_october() -> None:
    seven = reader(timezone="Australia/Lord_Howe")

    assert slot_on(seven, date(2026, 4, 4)) == Slot("2026-04-04", utc(2026, 4, 3, 20, 0))  # +11
    assert slot_on(seven, date(2026, 4, 5)) == Slot("2026-04-05", utc(2026, 4, 4, 20, 30))  # +10:30
    assert slot_on(seven, date(2026, 10, 3)) == Slot("2026-10-03", utc(2026, 10, 2, 20, 30))
    assert slot_on(seven, date(2026, 10, 4)) == Slot("2026-10-04", utc(2026, 10, 3, 20, 0))


@pytest.mark.parametrize(
    ("zone", "send_at", "day", "expected_utc", "expected_wall"),
    [
        ("America/New_York", time(2, 30), date(2026, 3, 8), utc(2026, 3, 8, 7, 30), "03:30"),
        ("Europe/London", time(1, 30), date(2026, 3, 29), utc(2026, 3, 29, 1, 30), "02:30"),
        ("Australia/Lord_Howe", time(2, 15), date(2026, 10, 4), utc(2026, 10, 3, 15, 45), "02:45"),
        ("Australia/Lord_Howe", time(2, 0), date(2026, 10, 4), utc(2026, 10, 3, 15, 30), "02:30"),
    ],
)
def test_a_send_at_in_the_gap_fires_once_shifted_forward_by_the_gap(
    zone: str, send_at: time, day: date, expected_utc: datetime, expected_wall: str
) -> None:
    subscriber = reader(timezone=zone, send_at=send_at)

    slot = slot_on(subscriber, day)

    assert slot == Slot(day.isoformat(), expected_utc)
    assert slot.at.astimezone(ZoneInfo(zone)).strftime("%H:%M") == expected_wall
    day_before = datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert [period for period, _ in sends(subscriber, day_before, 48)] == [
        day.isoformat(),
        (day + timedelta(days=1)).isoformat(),
    ]


@pytest.mark.parametrize(
    ("zone", "send_at", "day", "first", "repeated"),
    [
        ("America/New_York", time(1, 30), date(2026, 11, 1), utc(2026, 11, 1, 5, 30), 60),
        ("Europe/London", time(1, 30), date(2026, 10, 25), utc(2026, 10, 25, 0, 30), 60),
        ("Australia/Lord_Howe", time(1, 45), date(2026, 4, 5), utc(2026, 4, 4, 14, 45), 30),
    ],
)
def test_a_send_at_in_the_repeated_hour_fires_once_at_its_first_occurrence(
    zone: str, send_at: time, day: date, first: datetime, repeated: int
) -> None:
    subscriber = reader(timezone=zone, send_at=send_at)
    repeat = first + timedelta(minutes=repeated)  # the same wall time again, after the change

    assert slot_on(subscriber, day) == Slot(day.isoformat(), first)
    assert repeat.astimezone(ZoneInfo(zone)).strftime("%H:%M") == send_at.strftime("%H:%M")
    assert previous_slot(subscriber, repeat) == Slot(day.isoformat(), first)
    assert next_slot(subscriber, first).period == (day + timedelta(days=1)).isoformat()
    sent = sends(subscriber, first - timedelta(hours=2), 24)
    assert sent == [(day.isoformat(), first)]


def test_a_gap_shift_past_midnight_keeps_its_period() -> None:
    """America/Nuuk goes from 23:00 to 00:00 on the last Saturday night of March."""
    late = reader(timezone="America/Nuuk", send_at=time(23, 30))
    nuuk = ZoneInfo("America/Nuuk")

    saturday = slot_on(late, date(2026, 3, 28))
    assert saturday is not None and saturday.period == "2026-03-28"
    assert wall(saturday, nuuk) == "Sun 2026-03-29 00:30 -0100"
    just_after = saturday.at + timedelta(minutes=10)
    assert previous_slot(late, just_after) == saturday
    assert next_slot(late, saturday.at - timedelta(minutes=1)) == saturday
    assert wall(next_slot(late, just_after), nuuk) == "Sun 2026-03-29 23:30 -0100"


def test_a_repeated_hour_across_midnight_looks_at_tomorrows_date() -> None:
    """America/Goose_Bay went back from 00:01 to 23:01 the evening before, until 2010."""
    midnight = reader(timezone="America/Goose_Bay", send_at=time(0, 0, 30))
    sunday = Slot("2010-11-07", utc(2010, 11, 7, 3, 0, 30))  # 00:00:30 ADT, before the change
    saturday_again = utc(2010, 11, 7, 3, 30)  # 23:29 AST on Saturday the 6th, second time

    assert previous_slot(midnight, saturday_again) == sunday
    assert next_slot(midnight, saturday_again).period == "2010-11-08"
    assert [period for period, _ in sends(midnight, utc(2010, 11, 6, 0, 0), 60)] == [
        "2010-11-06",
        "2010-11-07",
        "2010-11-08",
    ]


def test_a_date_the_zone_skipped_has_no_slot() -> None:
    """Samoa crossed the date line: 2011-12-29 was followed by 2011-12-31."""
    apia = reader(timezone="Pacific/Apia")

    assert slot_on(apia, date(2011, 12, 30)) is None
    friday = utc(2011, 12, 30, 12, 0)  # Saturday morning the 31st in Apia
    assert previous_slot(apia, friday) == Slot("2011-12-29", utc(2011, 12, 29, 17, 0))
    assert next_slot(apia, friday) == Slot("2011-12-31", utc(2011, 12, 30, 17, 0))
    fridays = reader(timezone="Pacific/Apia", frequency=Frequency.WEEKLY, days=("fri",))
    saturday_before = utc(2011, 12, 24, 0, 0)
    assert next_slot(fridays, saturday_before).period == "2012-01-06"  # 13 days on


def test_a_weekly_digest_without_days_never_comes() -> None:
    never = reader(frequency=Frequency.WEEKLY, days=())
    now = utc(2026, 11, 26, 9, 0)

    assert previous_slot(never, now) is None
    assert plan_sends([never], set(), now, GRACE) == SendPlan([], [])
    with pytest.raises(ValueError, match="no slot within"):
        next_slot(never, now)


# --- downtime, grace and the ledger


def test_late_by_less_than_grace_is_due_and_more_is_missed() -> None:
    daily = reader(send_at=time(7, 0))
    slot = Slot("2026-11-26", utc(2026, 11, 26, 7, 0))

    assert plan_sends([daily], set(), utc(2026, 11, 26, 7, 0), GRACE).due == [(daily, slot)]
    assert plan_sends([daily], set(), utc(2026, 11, 26, 8, 0), GRACE).due == [(daily, slot)]
    late = plan_sends([daily], set(), utc(2026, 11, 26, 8, 1), GRACE)
    assert late == SendPlan(due=[], missed=[(daily, slot)])


def test_long_downtime_sends_no_backlog_and_the_next_slot_goes_out_normally() -> None:
    daily = reader(send_at=time(7, 0))
    back_up = utc(2026, 11, 26, 7, 30)  # down since the 22nd: four slots passed

    plan = plan_sends([daily], set(), back_up, GRACE)

    assert plan.due == [(daily, Slot("2026-11-26", utc(2026, 11, 26, 7, 0)))]
    assert plan.missed == []
    longer = plan_sends([daily], set(), utc(2026, 11, 26, 12, 0), GRACE)
    assert longer.due == [] and [slot.period for _, slot in longer.missed] == ["2026-11-26"]
    tomorrow = plan_sends([daily], set(), utc(2026, 11, 27, 7, 0), GRACE)
    assert [slot.period for _, slot in tomorrow.due] == ["2026-11-27"] and not tomorrow.missed


def test_weekly_slot_six_days_old_is_missed_with_a_small_grace() -> None:
    weekly = reader(frequency=Frequency.WEEKLY, days=("fri",), send_at=time(9, 0))
    thursday = utc(2026, 11, 26, 9, 0)

    plan = plan_sends([weekly], set(), thursday, timedelta(minutes=15))

    assert plan.due == []
    assert plan.missed == [(weekly, Slot("2026-11-20", utc(2026, 11, 20, 9, 0)))]


def test_a_recorded_slot_is_neither_due_nor_missed_whatever_its_state() -> None:
    """plan_sends sees only ledger keys: a sent, deferred or failed row all take the period."""
    daily = reader("Ada@Example.COM", send_at=time(7, 0))
    recorded = {("ada@example.com", "2026-11-26")}

    for hours in (0, 5):  # within grace, and long after
        plan = plan_sends([daily], recorded, utc(2026, 11, 26, 7 + hours, 0), GRACE)
        assert plan == SendPlan(due=[], missed=[])


def test_only_the_latest_slot_counts_even_when_older_ones_are_unrecorded() -> None:
    daily = reader(send_at=time(7, 0))
    recorded = {("a@example.com", "2026-11-26")}  # today's sent, earlier days never were

    assert plan_sends([daily], recorded, utc(2026, 11, 26, 7, 30), GRACE) == SendPlan([], [])


def test_a_restart_computes_the_same_plan() -> None:
    readers = [reader(f"r{n}@example.com", send_at=time(6, n * 5)) for n in range(12)]
    recorded = {("r1@example.com", "2026-11-26"), ("r2@example.com", "2026-11-25")}
    now = utc(2026, 11, 26, 6, 30)

    first = plan_sends(readers, recorded, now, GRACE)
    again = plan_sends(iter(readers), frozenset(recorded), now, GRACE)

    assert first == again
    # r1 has today's row; r2's row is yesterday's, which does not cover today
    assert [s.email for s, _ in first.due] == [f"r{n}@example.com" for n in (0, 2, 3, 4, 5, 6)]
    assert [(s.email, slot.period) for s, slot in first.missed] == [
        (f"r{n}@example.com", "2026-11-25") for n in range(7, 12)
    ]  # their latest slot is yesterday's, ~23 hours late


def test_grouped_plan_matches_each_subscriber_on_their_own() -> None:
    zones = ["UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]
    readers = [
        reader(f"r{n}@example.com", timezone=zones[n % 4], send_at=time(n % 24, 15 * (n % 4)),
               frequency=list(Frequency)[n % 3], days=("sat", "wed") if n % 2 else ("mon",))
        for n in range(200)
    ]  # fmt: skip
    now = utc(2026, 11, 26, 9, 0)

    plan = plan_sends(readers, set(), now, timedelta(hours=6))

    alone = [(s, latest(s, now)) for s in readers]
    assert plan.due == [(s, slot) for s, slot in alone if now - slot.at <= timedelta(hours=6)]
    assert plan.missed == [(s, slot) for s, slot in alone if now - slot.at > timedelta(hours=6)]


# --- many zones, next wake-up


ZONES_24 = (
    "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles",
    "America/Denver", "America/Chicago", "America/New_York", "America/Halifax",
    "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Azores", "Europe/London",
    "Europe/Paris", "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi",
    "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
    "Pacific/Noumea", "Pacific/Auckland",
)  # fmt: skip


def test_many_zones_at_one_now_only_those_past_seven_today_are_due() -> None:
    readers = [reader(f"{zone}@example.com", timezone=zone) for zone in ZONES_24]
    now = utc(2026, 11, 26, 9, 30)

    yesterday = {
        (s.email.lower(), f"{now.astimezone(ZoneInfo(s.timezone)) - timedelta(days=1):%Y-%m-%d}")
        for s in readers
    }  # everyone got yesterday's

    plan = plan_sends(readers, yesterday, now, timedelta(hours=24))

    expected = []
    for subscriber in readers:
        local = now.astimezone(ZoneInfo(subscriber.timezone))
        if local.time() >= time(7, 0):
            expected.append((subscriber.timezone, local.date().isoformat()))
    assert [(s.timezone, slot.period) for s, slot in plan.due] == expected
    assert 0 < len(plan.due) < len(readers) and plan.missed == []
    assert "Europe/London" in {s.timezone for s, _ in plan.due}  # 09:30 there
    assert "America/New_York" not in {s.timezone for s, _ in plan.due}  # 04:30 there
    one_hour = plan_sends(readers, yesterday, now, GRACE)
    # 07:30 there (UTC-2): the only one late by less than the hour; the rest are missed
    assert [s.timezone for s, _ in one_hour.due] == ["Atlantic/South_Georgia"]
    assert len(one_hour.missed) == len(plan.due) - 1


def test_next_wake_is_the_earliest_next_slot_of_anyone() -> None:
    readers = [reader(f"{zone}@example.com", timezone=zone) for zone in ZONES_24]
    now = utc(2026, 11, 26, 9, 30)

    wake = next_wake(readers, now)

    assert wake == min(next_slot(s, now).at for s in readers)
    assert wake == utc(2026, 11, 26, 10, 0)  # 07:00 in São Paulo, UTC-3
    assert next_wake([], now) is None


def test_next_wake_for_one_subscriber_is_their_next_slot() -> None:
    weekly = reader(frequency=Frequency.WEEKLY, days=("sun",), timezone="Australia/Lord_Howe")

    assert next_wake([weekly, weekly], utc(2026, 10, 1, 0, 0)) == utc(2026, 10, 3, 20, 0)


# --- properties over zones and times

ZONE_NAMES = sorted(available_timezones())


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONE_NAMES),
    now=st.datetimes(datetime(1995, 1, 1), datetime(2037, 12, 31), timezones=st.just(UTC)),
    send_at=st.times().map(lambda t: t.replace(microsecond=0)),
    frequency=st.sampled_from(list(Frequency)),
    days=st.sets(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1),
)
def test_slots_bracket_now_and_fall_at_send_at_in_the_local_zone(
    zone: str, now: datetime, send_at: time, frequency: Frequency, days: set[str]
) -> None:
    subscriber = reader(
        timezone=zone, send_at=send_at, frequency=frequency, days=tuple(sorted(days))
    )

    before, after = previous_slot(subscriber, now), next_slot(subscriber, now)

    assert before is not None and before.at <= now < after.at
    assert next_slot(subscriber, before.at) == after  # nothing in between
    assert previous_slot(subscriber, after.at) == after
    for slot in (before, after):
        assert slot.at.tzinfo is UTC
        local = slot.at.astimezone(ZoneInfo(zone))
        period = date.fromisoformat(slot.period)
        if local.time() == send_at:
            assert local.date() == period
        else:  # send_at fell in a gap: shifted forward, past midnight at most
            wanted = datetime.combine(period, send_at, tzinfo=ZoneInfo(zone))
            assert wanted.astimezone(UTC).astimezone(ZoneInfo(zone)) != wanted
            assert local.date() - period <= timedelta(days=1)
            assert slot.at == wanted.astimezone(UTC)
        assert slot_on(subscriber, period) == slot


@settings(max_examples=40, deadline=None)
@given(
    start=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    zone=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"]),
    minutes=st.integers(0, 24 * 60 - 1),
)
def test_a_service_ticking_through_ten_days_sends_each_daily_period_once(
    start: datetime, zone: str, minutes: int
) -> None:
    daily = reader(timezone=zone, send_at=time(minutes // 60, minutes % 60))

    sent = sends(daily, start, 240)

    periods = [period for period, _ in sent]
    assert len(periods) == len(set(periods)) in (9, 10, 11)
    for period, tick in sent:
        slot = slot_on(daily, date.fromisoformat(period))
        late = timedelta(minutes=5) if tick > start else GRACE + timedelta(seconds=1)
        assert slot is not None and timedelta(0) <= tick - slot.at < late
