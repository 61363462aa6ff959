"""The long-running service: collect on an interval, send each digest when it is due.

What is due is worked out afresh on every tick from the subscribers file, the send ledger
and the clock (`digest.due`), so a restart, a crash or downtime loses nothing and sends
nothing twice. APScheduler runs the jobs one at a time on one worker thread: a tick every
30 seconds and one at the next due instant, a collect every DIGEST_COLLECT_INTERVAL_MINUTES,
and a check of the config files every few seconds. A lease in the database keeps a second
service on the same database from sending; it is renewed on a thread (and a database
connection) of its own, so a long send never lets it lapse.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from digest.collect import collect
from digest.deliver import Mailer
from digest.dispatch import SendOutcome, retry_sends, send_digests
from digest.due import Slot, next_wake, plan_sends
from digest.errors import ConfigError
from digest.models import SendState, Subscriber
from digest.runtime import Runtime, with_choices
from digest.sourcelist import load_sources
from digest.store import Lease, Store
from digest.subscribers import load_subscribers

log = logging.getLogger("digest.service")
LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=60)
TICK_SECONDS = 30
WATCH_SECONDS = 3
LEDGER_LOOKBACK = timedelta(days=9)  # a weekly slot is at most 7 days back
STOP_SECONDS = 8.0  # a stop waits this long for the job in hand

MailerFactory = Callable[[], Mailer]


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Service:
    """One running `schedule`: its jobs, its lease and the configuration it runs on."""

    def __init__(
        self,
        runtime: Runtime,
        mailers: MailerFactory,
        holder: str = "",
        scheduler: BaseScheduler | None = None,
    ) -> None:
        self.runtime, self.mailers = runtime, mailers
        self.holder = holder or holder_name()
        self.stopping = threading.Event()
        self.scheduler = scheduler or BackgroundScheduler()
        self._lease_store = Store(runtime.settings.database)  # its own connection and thread
        self._config = _stamps(self._config_files())
        self._missed: set[tuple[str, str]] = set()
        self._busy = threading.Condition()
        self._running = 0  # jobs in hand

    # --- lifecycle

    def claim(self) -> Lease | None:
        """Take the lease; None when taken, else the other service's lease (or a dead one's,
        on this host, which is taken over)."""
        lease = self._take_lease()
        if lease.holder == self.holder:
            return None
        if _is_dead_here(lease.holder):
            log.warning("taking over from %s, which is no longer running", lease.holder)
            with self._lease_store.lock:
                self._lease_store.release_lease(LEASE, lease.holder)
            return self.claim()
        return lease

    def start(self) -> None:
        settings, now = self.runtime.settings, self.runtime.clock()
        self.scheduler.configure(
            executors={"default": ThreadPoolExecutor(1), "lease": ThreadPoolExecutor(1)},
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        add, job = self.scheduler.add_job, self._job
        add(job(self.collect), "interval", minutes=settings.collect_interval_minutes,
            id="collect", next_run_time=now)  # fmt: skip
        add(job(self.tick), "interval", seconds=TICK_SECONDS, id="tick", next_run_time=now)
        add(job(self.watch), "interval", seconds=WATCH_SECONDS, id="watch")
        add(job(self.renew), "interval", seconds=LEASE_TTL.total_seconds() / 3, id="lease",
            executor="lease")  # fmt: skip
        self.scheduler.start()
        log.info("service started as %s", self.holder, extra={"event": "started"})

    def run_until_stopped(self) -> None:
        """Block until SIGTERM or SIGINT; SIGHUP reloads the configuration."""
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        signal.signal(
            signal.SIGHUP, lambda *_: self.scheduler.add_job(self.reload, args=["SIGHUP"])
        )
        while not self.stopping.wait(0.5):
            pass
        self.shut_down()

    def request_reload(self, why: str) -> None:
        if not self.stopping.is_set():
            self.scheduler.add_job(self._job(lambda: self.reload(why)))

    def shut_down(self) -> None:
        """Let the job in hand finish its message and record it, then release the lease.

        The scheduler is told to stop without waiting (APScheduler would hold its job-store
        lock meanwhile, which a job rescheduling its wake-up also wants); the jobs in hand
        are waited for here.
        """
        self.stopping.set()
        self.scheduler.shutdown(wait=False)
        with self._busy:
            self._busy.wait_for(lambda: self._running == 0, timeout=STOP_SECONDS)
        with self._lease_store.lock:
            self._lease_store.release_lease(LEASE, self.holder)
            self._lease_store.close()
        log.info("service stopped", extra={"event": "stopped"})

    def _job(self, work: Callable[[], None]) -> Callable[[], None]:
        """`work` as a job: skipped once stopping, counted while it runs."""

        def run() -> None:
            with self._busy:
                if self.stopping.is_set():
                    return
                self._running += 1
            try:
                work()
            finally:
                with self._busy:
                    self._running -= 1
                    self._busy.notify_all()

        return run

    # --- jobs

    def tick(self) -> None:
        """Deliver due retries, then every digest that is due now; plan the next wake-up."""
        if self.stopping.is_set() or not self._still_leader():
            return
        runtime, now = self.runtime, self.runtime.clock()
        ctx, stop = runtime.send_context, self.stopping.is_set
        _log_outcomes(retry_sends(ctx, self.mailers, should_stop=stop))
        recorded = runtime.store.ledger_keys_since(f"{now - LEDGER_LOOKBACK:%Y-%m-%d}")
        grace = timedelta(minutes=runtime.settings.send_grace_minutes)
        plan = plan_sends(runtime.subscribers, recorded, now, grace)
        self._log_missed(plan.missed)
        if plan.due:
            self._collect_if_stale(now)
            by_period: dict[str, list[Subscriber]] = defaultdict(list)
            for subscriber, slot in plan.due:
                by_period[slot.period].append(subscriber)
            for period, group in by_period.items():
                outcomes = send_digests(group, ctx, self.mailers, edition=period, should_stop=stop)
                _log_outcomes(outcomes)
        self._schedule_wake()

    def collect(self) -> None:
        if self.stopping.is_set():
            return
        runtime = self.runtime
        report = collect(runtime.sources, runtime.store, runtime.settings, runtime.clock())
        log.info("collected %d articles (%d new)", report.total_articles, report.new_articles,
                 extra={"event": "collected", "count": report.new_articles})  # fmt: skip
        for error in report.errors:
            log.warning("source problem: %s", error, extra={"event": "source-error"})

    def renew(self) -> None:
        lease = self._take_lease()
        if lease.holder != self.holder:
            log.error("lost the lease to %s; stopping", lease.holder, extra={"event": "lease-lost"})
            self.stopping.set()

    def watch(self) -> None:
        """Reload when the subscribers or sources file changed on disk."""
        stamps = _stamps(self._config_files())
        if stamps != self._config:
            self._config = stamps
            self.reload("a config file changed")

    def reload(self, why: str) -> None:
        """Load both config files; a mistake is logged and the last good configuration stays."""
        settings = self.runtime.settings
        try:
            sources = load_sources(settings.sources_file)
            subscribers = load_subscribers(settings.subscribers_file, sources.topic_names)
        except ConfigError as error:
            log.error(
                "configuration not reloaded (%s): %s; still running the last good one", why, error,
                extra={"event": "reload-refused", "detail": str(error)},
            )  # fmt: skip
            return
        subscribers = with_choices(subscribers, self.runtime.store, sources)
        self.runtime = replace(self.runtime, sources=sources, subscribers=subscribers)
        log.info("configuration reloaded (%s): %d subscribers", why, len(subscribers),
                 extra={"event": "reloaded", "count": len(subscribers)})  # fmt: skip
        self._schedule_wake()

    # --- helpers

    def _take_lease(self) -> Lease:
        with self._lease_store.lock:  # the tick and the lease thread share this connection
            return self._lease_store.take_lease(LEASE, self.holder, self.runtime.clock(), LEASE_TTL)

    def _still_leader(self) -> bool:
        lease = self._take_lease()
        if lease.holder != self.holder:
            log.error("another service (%s) holds the lease; not sending", lease.holder,
                      extra={"event": "lease-lost"})  # fmt: skip
            self.stopping.set()
        return lease.holder == self.holder

    def _collect_if_stale(self, now: datetime) -> None:
        last = self.runtime.store.last_collected()
        max_age = timedelta(minutes=self.runtime.settings.collect_max_age_minutes)
        if last is None or now - last > max_age:
            self.collect()

    def _log_missed(self, missed: list[tuple[Subscriber, Slot]]) -> None:
        for subscriber, slot in missed:
            key = (subscriber.email, slot.period)
            if key not in self._missed:
                self._missed.add(key)
                log.warning(
                    "skipped the %s digest of %s: missed by more than DIGEST_SEND_GRACE_MINUTES",
                    key[1], subscriber.email,
                    extra={"event": "skipped", "subscriber": subscriber.email, "edition": key[1]},
                )  # fmt: skip

    def _schedule_wake(self) -> None:
        """A tick at the next due instant (or deferred retry), on top of the regular ones."""
        now = self.runtime.clock()
        candidates = [next_wake(self.runtime.subscribers, now)]
        deferred = self.runtime.store.sends_in(SendState.DEFERRED)
        candidates += [r.next_attempt_at for r in deferred]
        wake = min((c for c in candidates if c is not None), default=None)
        if wake is not None and not self.stopping.is_set():
            self.scheduler.add_job(self._job(self.tick), "date", run_date=wake, id="wake",
                                   replace_existing=True)  # fmt: skip
            log.debug("next wake-up at %s", wake.isoformat())

    def _config_files(self) -> list[Path]:
        settings = self.runtime.settings
        return [settings.subscribers_file, settings.sources_file]


def _stamps(paths: list[Path]) -> list[tuple[int, int]]:
    stamps = []
    for path in paths:
        try:
            status = path.stat()
            stamps.append((status.st_mtime_ns, status.st_size))
        except OSError:
            stamps.append((0, 0))
    return stamps


def _is_dead_here(holder: str) -> bool:
    """True when `holder` names a process on this host that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _log_outcomes(outcomes: list[SendOutcome]) -> None:
    for o in outcomes:
        level = logging.WARNING if o.is_failure else logging.INFO
        log.log(level, "%s %s: %s %s", o.edition, o.email, o.status, o.detail,
                extra={"event": "send", "subscriber": o.email, "edition": o.edition,
                       "status": o.status, "detail": o.detail})  # fmt: skip
