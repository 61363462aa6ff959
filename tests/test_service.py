"""The scheduler service's jobs, run by hand on a fixed clock: what is due, leases, reloads."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from digest.collect import collect
from digest.deliver import MemoryMailer
from digest.runtime import Runtime
from digest.service import Service

from .conftest import NOW, SUBSCRIBERS_YAML, Project

# At NOW (Thursday 09:00 UTC) the sailor's 07:00 London digest is two hours late: within the
# default grace of three hours. The farmer's weekday 06:30 New York digest was last due
# yesterday at 11:30 UTC: 21.5 hours ago, so it is skipped.


@pytest.fixture
def mailer() -> MemoryMailer:
    return MemoryMailer()


@pytest.fixture
def service(runtime: Runtime, mailer: MemoryMailer) -> Iterator[Service]:
    made = Service(runtime, lambda: mailer, holder="test-host:1", scheduler=BackgroundScheduler())
    assert made.claim() is None
    yield made
    if not made.stopping.is_set():
        made._lease_store.close()


def test_a_tick_sends_what_is_due_once_and_skips_what_is_too_late(
    service: Service, mailer: MemoryMailer, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="digest.service")
    service.tick()
    service.tick()

    assert [e.recipient for e in mailer.sent] == ["sailor@example.com"]
    assert runtime.store.ledger_keys_since("2026-11-01") == {("sailor@example.com", "2026-11-26")}
    skipped = [r for r in caplog.records if getattr(r, "event", "") == "skipped"]
    assert [(r.subscriber, r.edition) for r in skipped] == [("farmer@example.org", "2026-11-25")]  # type: ignore[attr-defined]


def test_a_tick_collects_first_when_the_articles_are_stale(
    service: Service, mailer: MemoryMailer, runtime: Runtime
) -> None:
    assert runtime.store.last_collected() is None

    service.tick()

    assert runtime.store.last_collected() == NOW
    assert len(mailer.sent) == 1


def test_recent_articles_are_not_collected_again(
    service: Service, runtime: Runtime, project: Project
) -> None:
    collect(runtime.sources, runtime.store, runtime.settings, NOW - timedelta(minutes=10))
    (project.root / "articles" / "late.txt").write_text(
        "Coast\n\nLate Ferry News\n\nOne more.\nBayside Courier\n\nText.\n", encoding="utf-8"
    )

    service.tick()

    assert runtime.store.last_collected() == NOW - timedelta(minutes=10)


def test_a_second_service_on_the_same_database_is_refused(
    runtime: Runtime, service: Service
) -> None:
    second = Service(runtime, MemoryMailer, holder="test-host:2", scheduler=BackgroundScheduler())
    try:
        other = second.claim()
    finally:
        second._lease_store.close()

    assert other is not None and other.holder == "test-host:1"
    assert other.expires_at == NOW + timedelta(seconds=60)


def test_the_lease_of_a_dead_process_on_this_host_is_taken_over(runtime: Runtime) -> None:
    import socket

    dead = Service(runtime, MemoryMailer, holder=f"{socket.gethostname()}:999999999")
    assert dead.claim() is None
    heir = Service(runtime, MemoryMailer, holder=f"{socket.gethostname()}:1")
    try:
        assert heir.claim() is None
    finally:
        dead._lease_store.close()
        heir._lease_store.close()


def test_a_broken_change_keeps_the_last_good_configuration(
    service: Service, project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    subscribers = project.root / "subscribers.yaml"
    subscribers.write_text(SUBSCRIBERS_YAML.replace("topics: [coast]", "topics: [nope]"))

    service.reload("test")

    assert [s.email for s in service.runtime.subscribers] == [
        "sailor@example.com",
        "farmer@example.org",
    ]
    assert "subscribers.yaml:" in caplog.text and "still running the last good one" in caplog.text


def test_a_changed_file_is_picked_up(service: Service, project: Project) -> None:
    subscribers = project.root / "subscribers.yaml"
    subscribers.write_text(SUBSCRIBERS_YAML.replace("Sam Sailor", "Samantha Sailor"))

    service.watch()

    assert service.runtime.subscribers[0].name == "Samantha Sailor"


def test_a_stopping_service_sends_nothing_more(service: Service, mailer: MemoryMailer) -> None:
    service.stopping.set()

    service.tick()

    assert mailer.sent == []


def test_a_stop_while_a_job_reschedules_its_wake_up_does_not_hang(service: Service) -> None:
    in_job, go_on = threading.Event(), threading.Event()

    def busy() -> None:
        in_job.set()
        go_on.wait(5)
        service.scheduler.add_job(print, "date", run_date=NOW + timedelta(days=1))

    service.scheduler.start()
    service.scheduler.add_job(service._job(busy))
    assert in_job.wait(5)
    stopper = threading.Thread(target=service.shut_down)
    stopper.start()
    time.sleep(0.2)  # the stop is under way while the job still runs
    go_on.set()
    stopper.join(10)

    assert not stopper.is_alive()
