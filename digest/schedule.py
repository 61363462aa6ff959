"""The long-running service: collect on an interval, send each digest at the local `send_at`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from digest.collect import collect
from digest.deliver import Mailer
from digest.dispatch import send_digests
from digest.models import Frequency, Subscriber
from digest.runtime import Runtime

log = logging.getLogger("digest.schedule")
MISFIRE_GRACE = timedelta(hours=1)


def send_trigger(subscriber: Subscriber) -> CronTrigger:
    """Fires at the subscriber's `send_at` in their timezone, on the days of their frequency."""
    days = {
        Frequency.DAILY: "*",
        Frequency.WEEKDAYS: "mon-fri",
        Frequency.WEEKLY: ",".join(subscriber.days),
    }[subscriber.frequency]
    return CronTrigger(
        day_of_week=days,
        hour=subscriber.send_at.hour,
        minute=subscriber.send_at.minute,
        timezone=ZoneInfo(subscriber.timezone),
    )


def next_send_time(subscriber: Subscriber, now: datetime) -> datetime:
    """When the subscriber's next digest is due, strictly after or at `now`."""
    fire_time: datetime = send_trigger(subscriber).get_next_fire_time(None, now)
    return fire_time


def build_scheduler(
    runtime: Runtime,
    mailer_factory: Callable[[], Mailer],
    scheduler: BaseScheduler | None = None,
) -> BaseScheduler:
    """A scheduler with one collect job and one send job per subscriber, run one at a time."""
    scheduler = scheduler or BlockingScheduler()
    scheduler.configure(executors={"default": ThreadPoolExecutor(1)}, timezone="UTC")
    interval = IntervalTrigger(minutes=runtime.settings.collect_interval_minutes)
    scheduler.add_job(
        _collect_job, interval, args=[runtime], id="collect", name="collect",
        next_run_time=runtime.clock(), coalesce=True, max_instances=1,
    )  # fmt: skip
    for subscriber in runtime.subscribers:
        scheduler.add_job(
            _send_job, send_trigger(subscriber), args=[runtime, subscriber, mailer_factory],
            id=f"send:{subscriber.email}", name=f"digest for {subscriber.email}",
            coalesce=True, max_instances=1,
            misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
        )  # fmt: skip
    return scheduler


def _collect_job(runtime: Runtime) -> None:
    report = collect(runtime.sources, runtime.store, runtime.settings, runtime.clock())
    log.info("collected %d articles (%d new)", report.total_articles, report.new_articles)
    for error in report.errors:
        log.warning("source problem: %s", error)


def _send_job(
    runtime: Runtime, subscriber: Subscriber, mailer_factory: Callable[[], Mailer]
) -> None:
    for outcome in send_digests([subscriber], runtime.send_context, mailer_factory):
        log.info("%s %s: %s %s", outcome.edition, outcome.email, outcome.status, outcome.detail)
