"""Which digests are due: a pure function of subscribers, ledger keys and `now`.

A subscriber's *slots* are the instants their digest is meant to go out: `send_at` local
time in their IANA `timezone`, on each day their frequency allows (daily; weekdays, Monday
to Friday; weekly on `days`). A slot's `period` is the local date it belongs to,
YYYY-MM-DD: the edition id, so the send ledger's key for it is (email lowercased, period).

Rules:
- Only the latest slot at or before `now` counts. After a long downtime a daily subscriber
  gets at most one late digest, never a backlog: the latest slot is due if missed by at
  most `grace`, otherwise it is reported in `missed` (to log; the plan lists it again until
  a newer slot replaces it) and the next slot is sent as usual. Older slots are forgotten.
- A slot whose (email.lower(), period) is in the ledger, in any state (sent, deferred,
  failed...), is neither due nor missed: never two digests for one period.
- Daylight saving: a `send_at` that does not exist on a change day (spring forward, e.g.
  02:30 in America/New_York on 2026-03-08) fires once, shifted forward by the gap (03:30
  EDT): the instant zoneinfo gives for fold=0. A `send_at` that happens twice (fall back,
  e.g. 01:30 on 2026-11-01 in New York) fires once, at its first occurrence (fold=0). A
  shifted slot keeps its period even when the shift crosses midnight (America/Nuuk jumps
  from 23:00 to 00:00), and a date the zone skipped entirely (Pacific/Apia, 2011-12-30)
  has no slot.
- Nothing here reads a clock or a store, so a restarted service computes the same plan.

Subscribers sharing (timezone, send_at, frequency, days) share their slots: `plan_sends`
and `next_wake` compute them once per such schedule, so the zoneinfo work grows with the
number of distinct schedules, not with the number of subscribers.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from digest.models import Frequency, Subscriber
from digest.subscribers import DAY_NAMES

LOOKBACK_DAYS = 8  # a weekly slot is at most 7 days old; one more for zone offsets
LOOKAHEAD_DAYS = 15  # two weeks and a day: a weekly slot may fall on a date the zone skipped
Schedule = tuple[str, time, Frequency, tuple[str, ...]]  # timezone, send_at, frequency, days


@dataclass(frozen=True)
class Slot:
    """One scheduled digest: the period it belongs to and when it goes out."""

    period: str  # local date of the slot, YYYY-MM-DD: the edition id
    at: datetime  # the instant, timezone-aware UTC


@dataclass(frozen=True)
class SendPlan:
    """What to do at one `now`; both lists keep the order of the subscribers given."""

    due: list[tuple[Subscriber, Slot]]  # send now: latest slot not in the ledger, late <= grace
    missed: list[tuple[Subscriber, Slot]]  # latest slot not in the ledger, later: skipped


def slot_on(subscriber: Subscriber, day: date) -> Slot | None:
    """The subscriber's slot on the local date `day`; None when their frequency skips it."""
    timezone, send_at, frequency, days = _schedule(subscriber)
    if day.weekday() not in _weekdays(frequency, days):
        return None
    at = _instant(timezone, send_at, day)
    return None if at is None else Slot(day.isoformat(), at)


def previous_slot(subscriber: Subscriber, now: datetime) -> Slot | None:
    """The latest slot at or before `now`, looking back `LOOKBACK_DAYS` local days."""
    return _Slots(now).latest(_schedule(subscriber))


def next_slot(subscriber: Subscriber, now: datetime) -> Slot:
    """The earliest slot strictly after `now`."""
    return _Slots(now).earliest(_schedule(subscriber))


def plan_sends(
    subscribers: Iterable[Subscriber],
    recorded: AbstractSet[tuple[str, str]],
    now: datetime,
    grace: timedelta,
) -> SendPlan:
    """Each subscriber's latest slot not in `recorded`: due if late by <= `grace`, else missed."""
    slots = _Slots(now)
    due: list[tuple[Subscriber, Slot]] = []
    missed: list[tuple[Subscriber, Slot]] = []
    for subscriber in subscribers:
        slot = slots.latest(_schedule(subscriber))
        if slot is None or (subscriber.email.lower(), slot.period) in recorded:
            continue
        (due if now - slot.at <= grace else missed).append((subscriber, slot))
    return SendPlan(due, missed)


def next_wake(subscribers: Iterable[Subscriber], now: datetime) -> datetime | None:
    """The earliest slot strictly after `now` over all subscribers; None when there are none."""
    slots = _Slots(now)
    schedules = {_schedule(subscriber) for subscriber in subscribers}
    return min((slots.earliest(schedule).at for schedule in schedules), default=None)


def _schedule(subscriber: Subscriber) -> Schedule:
    return (subscriber.timezone, subscriber.send_at, subscriber.frequency, subscriber.days)


class _Slots:
    """Slots around one `now`, each worked out once: per schedule, and per local instant
    (schedules differing only in frequency or days share their timezone's instants)."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("`now` must be timezone-aware")
        self.now = now
        self._latest: dict[Schedule, Slot | None] = {}
        self._dates: dict[str, list[date]] = {}
        self._instants: dict[tuple[str, time, date], datetime | None] = {}

    def latest(self, schedule: Schedule) -> Slot | None:
        """The schedule's latest slot at or before `now`."""
        try:
            return self._latest[schedule]
        except KeyError:
            slot = self._latest[schedule] = self._find_latest(schedule)
            return slot

    def earliest(self, schedule: Schedule) -> Slot:
        """The schedule's earliest slot strictly after `now`."""
        timezone, send_at, frequency, days = schedule
        weekdays, today = (
            _weekdays(frequency, days),
            self._dates_around(timezone)[1],
        )  # [0]: tomorrow
        # from yesterday on: its slot may have been shifted past midnight (America/Nuuk)
        for day in (today + timedelta(days=n) for n in range(-1, LOOKAHEAD_DAYS + 1)):
            at = self._instant(timezone, send_at, day) if day.weekday() in weekdays else None
            if at is not None and at > self.now:
                return Slot(day.isoformat(), at)
        raise ValueError(f"no slot within {LOOKAHEAD_DAYS} days for {schedule}: no `days`?")

    def _find_latest(self, schedule: Schedule) -> Slot | None:
        timezone, send_at, frequency, days = schedule
        weekdays = _weekdays(frequency, days)
        for day in self._dates_around(timezone):
            at = self._instant(timezone, send_at, day) if day.weekday() in weekdays else None
            if at is not None and at <= self.now:
                return Slot(day.isoformat(), at)
        return None

    def _dates_around(self, timezone: str) -> list[date]:
        """Local dates from tomorrow, then today, back to `LOOKBACK_DAYS` ago. Tomorrow, as
        a repeated hour across midnight (America/Goose_Bay, 00:01 to 23:01) muddles dates."""
        if timezone not in self._dates:
            today = self.now.astimezone(_zone(timezone)).date()
            self._dates[timezone] = [
                today - timedelta(days=n) for n in range(-1, LOOKBACK_DAYS + 1)
            ]
        return self._dates[timezone]

    def _instant(self, timezone: str, send_at: time, day: date) -> datetime | None:
        key = (timezone, send_at, day)
        if key not in self._instants:
            self._instants[key] = _instant(timezone, send_at, day)
        return self._instants[key]


def _instant(timezone: str, send_at: time, day: date) -> datetime | None:
    """`send_at` on `day` in the zone as UTC (fold=0); None when the zone skipped `day`."""
    zone = _zone(timezone)
    local = datetime.combine(day, send_at.replace(tzinfo=None, fold=0), tzinfo=zone)
    at = local.astimezone(UTC)
    if at.astimezone(zone).date() != day and _skipped(zone, day):
        return None
    return at


def _skipped(zone: ZoneInfo, day: date) -> bool:
    """True when the zone jumped over the whole local date, as Pacific/Apia did in 2011."""
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    return midnight.astimezone(UTC).astimezone(zone).date() != day


@cache
def _zone(name: str) -> ZoneInfo:
    # held here: ZoneInfo's own strong cache keeps 8 zones, and a reload reads the file
    return ZoneInfo(name)


@cache
def _weekdays(frequency: Frequency, days: tuple[str, ...]) -> frozenset[int]:
    """The weekday numbers (Monday is 0) on which the frequency has a slot."""
    if frequency == Frequency.DAILY:
        return frozenset(range(7))
    if frequency == Frequency.WEEKDAYS:
        return frozenset(range(5))
    return frozenset(DAY_NAMES.index(day.lower()[:3]) for day in days)
