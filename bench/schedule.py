"""Time and peak memory to work out which digests are due, for 100,000 subscribers.

The input: subscribers spread over 60 zones (with and without daylight saving, half- and
quarter-hour offsets), send_at mostly on quarter-hours in the morning but any minute for
some, all three frequencies; a ledger of ~200,000 keys: yesterday's period for everyone
plus each subscriber's latest period when it went out more than ten minutes before `now`,
except for 1% (an outage), so both `due` and `missed` have members.
Side by side in one run, the same plan (checked equal):
- digest: `plan_sends`, slots computed once per distinct (timezone, send_at, frequency,
  days) schedule. Reported cold (first call in the process: zone files are read) and
  warm (fastest of `--rounds`).
- naive: `previous_slot` for each subscriber, no grouping, then the same ledger check.
- apscheduler: a `CronTrigger` per subscriber and `get_next_fire_time` (what the old
  schedule.py did, for the next wake-up only), on `--cron` subscribers, against
  `next_wake` over all of them.
Peak memory is ru_maxrss (Linux: the high-water RSS of the whole process, interpreter
included) of a child process that builds the inputs and plans once; the child also gives
its RSS before planning, and tracemalloc's peak of Python allocations during a second plan.
Targets: plan under 1 s and the child under 200 MB. Ends with one line of JSON.
Usage: python bench/schedule.py [--subscribers N] [--rounds R] [--cron M]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apscheduler.triggers.cron import CronTrigger  # noqa: E402

from digest.due import SendPlan, Slot, next_wake, plan_sends, previous_slot  # noqa: E402
from digest.models import Frequency, Subscriber  # noqa: E402

ZONES = (
    "UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin",
    "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw",
    "Europe/Athens", "Europe/Helsinki", "Europe/Kyiv", "Europe/Istanbul", "Europe/Moscow",
    "Africa/Cairo", "Africa/Lagos", "Africa/Nairobi", "Africa/Johannesburg",
    "Africa/Casablanca", "Asia/Jerusalem", "Asia/Tehran", "Asia/Dubai", "Asia/Karachi",
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Yangon", "Asia/Bangkok",
    "Asia/Jakarta", "Asia/Singapore", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Manila",
    "Asia/Seoul", "Asia/Tokyo", "Australia/Perth", "Australia/Eucla", "Australia/Darwin",
    "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Australia/Lord_Howe",
    "Pacific/Auckland", "Pacific/Chatham", "Pacific/Honolulu", "America/Anchorage",
    "America/Los_Angeles", "America/Denver", "America/Phoenix", "America/Chicago",
    "America/Mexico_City", "America/New_York", "America/Toronto", "America/Halifax",
    "America/St_Johns", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
    "America/Nuuk",
)  # fmt: skip
WEEKLY_DAYS = (("mon",), ("fri",), ("sat",), ("sun",), ("mon", "thu"), ("tue", "sat"))
NOW = datetime(2026, 11, 26, 9, 7, tzinfo=UTC)
GRACE = timedelta(hours=1)
TOPICS = ("coast", "farming")  # one tuple shared by every subscriber, as the config loader's


def send_time(rng: random.Random) -> clock_time:
    """Mostly a morning quarter-hour; some any quarter-hour; a few any minute."""
    roll = rng.random()
    if roll < 0.70:
        return clock_time(rng.randint(6, 8), rng.choice((0, 15, 30, 45)))
    if roll < 0.95:
        return clock_time(rng.randint(0, 23), rng.choice((0, 15, 30, 45)))
    return clock_time(rng.randint(0, 23), rng.randint(0, 59))


def subscribers(count: int, seed: int = 7) -> list[Subscriber]:
    rng = random.Random(seed)
    made = []
    for number in range(count):
        roll = rng.random()
        frequency = Frequency.DAILY if roll < 0.7 else Frequency.WEEKDAYS
        days: tuple[str, ...] = ("mon",)
        if roll >= 0.85:
            frequency, days = Frequency.WEEKLY, rng.choice(WEEKLY_DAYS)
        made.append(Subscriber(
            f"Reader{number}@Example.com", f"Reader {number}", TOPICS,
            rng.choice(ZONES), send_time(rng), frequency, days,
        ))  # fmt: skip
    return made


def ledger(readers: Iterable[Subscriber], now: datetime) -> set[tuple[str, str]]:
    """Yesterday's key for everyone, and each latest period sent over ten minutes ago."""
    keys = set()
    for number, subscriber in enumerate(readers):
        email = subscriber.email.lower()
        yesterday = now.astimezone(ZoneInfo(subscriber.timezone)) - timedelta(days=1)
        keys.add((email, f"{yesterday:%Y-%m-%d}"))
        slot = previous_slot(subscriber, now)
        if slot and now - slot.at > timedelta(minutes=10) and number % 100:
            keys.add((email, slot.period))
    return keys


def naive_plan(
    readers: Iterable[Subscriber], recorded: set[tuple[str, str]], now: datetime
) -> SendPlan:
    """The same rules, each subscriber's slot computed on its own."""
    due: list[tuple[Subscriber, Slot]] = []
    missed: list[tuple[Subscriber, Slot]] = []
    for subscriber in readers:
        slot = previous_slot(subscriber, now)
        if slot is None or (subscriber.email.lower(), slot.period) in recorded:
            continue
        (due if now - slot.at <= GRACE else missed).append((subscriber, slot))
    return SendPlan(due, missed)


def cron_next(readers: list[Subscriber], now: datetime) -> datetime:
    """The next wake-up the APScheduler way: one CronTrigger per subscriber."""
    spec = {Frequency.DAILY: "*", Frequency.WEEKDAYS: "mon-fri"}
    fires: list[datetime] = []
    for subscriber in readers:
        trigger = CronTrigger(
            day_of_week=spec.get(subscriber.frequency) or ",".join(subscriber.days),
            hour=subscriber.send_at.hour,
            minute=subscriber.send_at.minute,
            timezone=ZoneInfo(subscriber.timezone),
        )
        fires.append(trigger.get_next_fire_time(None, now))
    return min(fires)


def timed(run: object, *args: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = run(*args)  # type: ignore[operator]
    return time.perf_counter() - start, result


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(count: int) -> None:
    """Build the inputs, plan once; print RSS figures and tracemalloc's peak as JSON."""
    readers = subscribers(count)
    recorded = ledger(readers, NOW)
    before = peak_mb()
    seconds, plan = timed(plan_sends, readers, recorded, NOW, GRACE)
    after = peak_mb()
    del plan
    tracemalloc.start()
    plan_sends(readers, recorded, NOW, GRACE)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"seconds": seconds, "inputs_mb": before, "peak_mb": after,
                      "plan_traced_mb": traced}))  # fmt: skip


def child_run(count: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(count)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="warm plans; the fastest counts")
    parser.add_argument("--cron", type=int, default=10_000, help="subscribers for APScheduler")
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    memory = child_run(args.subscribers)  # first, so its cold figure is a fresh process's
    readers = subscribers(args.subscribers)
    recorded = ledger(readers, NOW)
    schedules = {(s.timezone, s.send_at, s.frequency, s.days) for s in readers}
    warm = min(timed(plan_sends, readers, recorded, NOW, GRACE)[0] for _ in range(args.rounds))
    naive_s, naive = timed(naive_plan, readers, recorded, NOW)
    plan = plan_sends(readers, recorded, NOW, GRACE)
    assert plan == naive, "grouped and per-subscriber plans differ"
    wake_s, wake = timed(next_wake, readers, NOW)
    cron_s, cron_wake = timed(cron_next, readers[: args.cron], NOW)
    assert next_wake(readers[: args.cron], NOW) == cron_wake, "next_wake differs from cron"
    count = args.subscribers
    print(f"input:  {count:,} subscribers, {len(ZONES)} zones, {len(schedules):,} distinct "
          f"schedules, {len(recorded):,} ledger keys, now {NOW:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    print(f"plan:   {len(plan.due):,} due, {len(plan.missed):,} missed")
    print(f"digest: plan_sends {warm * 1000:.0f} ms warm (best of {args.rounds}), "
          f"{memory['seconds'] * 1000:.0f} ms cold (fresh process)")  # fmt: skip
    print(f"naive:  previous_slot per subscriber {naive_s * 1000:.0f} ms "
          f"= {naive_s / warm:.1f}x digest's warm time")  # fmt: skip
    print(f"wake:   next_wake {wake_s * 1000:.0f} ms for {count:,} (next at {wake:%H:%M} UTC); "
          f"APScheduler CronTrigger {cron_s * 1000:.0f} ms for {args.cron:,} "
          f"= {cron_s / args.cron * count:.1f} s for {count:,} (extrapolated)")  # fmt: skip
    print(f"memory: child peak RSS {memory['peak_mb']:.0f} MB (whole process; "
          f"{memory['inputs_mb']:.0f} MB before planning), plan's own Python allocations "
          f"{memory['plan_traced_mb']:.1f} MB (tracemalloc peak)")  # fmt: skip
    print("targets: plan < 1 s, < 200 MB")
    print(json.dumps({
        "subscribers": count, "zones": len(ZONES), "schedules": len(schedules),
        "ledger_keys": len(recorded), "due": len(plan.due), "missed": len(plan.missed),
        "plan_ms": round(warm * 1000), "plan_cold_ms": round(memory["seconds"] * 1000),
        "naive_ms": round(naive_s * 1000), "ratio": round(naive_s / warm, 1),
        "next_wake_ms": round(wake_s * 1000),
        "cron_s_extrapolated": round(cron_s / args.cron * count, 1),
        "peak_rss_mb": round(memory["peak_mb"]), "inputs_rss_mb": round(memory["inputs_mb"]),
        "plan_traced_mb": round(memory["plan_traced_mb"], 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
