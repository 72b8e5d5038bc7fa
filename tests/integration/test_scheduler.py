"""The real APScheduler under its lease, with short real delays, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.helpers import Q12, register_ward
from tests.polling import scalar, wait_for
from workflow import lease
from workflow.clock import FixedClock
from workflow.scheduler import CHECKPOINT_JOB, DeadlineScheduler, SchedulerSettings
from workflow.service import Service
from workflow.timeutil import VIETNAM, format_local

pytestmark = pytest.mark.slow


def real_instant(seconds: float) -> tuple[datetime, str]:
    """A whole second `seconds` from now, and how `set-deadline` writes it (Vietnam time)."""
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    return moment, format_local(moment, seconds=True)


def next_run(engine: sa.Engine, job: str) -> float | None:
    """The job's next run (epoch seconds) in APScheduler's table, which its first start creates."""
    if not sa.inspect(engine).has_table("apscheduler_jobs"):
        return None
    sql = "SELECT next_run_time FROM apscheduler_jobs WHERE id = :j"
    found = scalar(engine, sql, j=job)
    return None if found is None else float(found)


@pytest.fixture
def running(db_url: str) -> Iterator[Callable[[], DeadlineScheduler]]:
    """Start a DeadlineScheduler in a thread (catch-up once an hour: only date jobs fire)."""
    started: list[tuple[DeadlineScheduler, threading.Event, threading.Thread]] = []

    def start() -> DeadlineScheduler:
        settings = SchedulerSettings(
            database_url=db_url, lease_seconds=5, renew_seconds=0.2, catch_up_seconds=3600
        )
        scheduler, stop = DeadlineScheduler(settings), threading.Event()
        thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
        thread.start()
        started.append((scheduler, stop, thread))
        return scheduler

    yield start
    for _scheduler, stop, thread in started:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_the_scheduler_fires_the_sweep_at_a_deadline_and_follows_a_moved_one(
    world: Service, engine: sa.Engine, clock: FixedClock, running: Callable[[], DeadlineScheduler]
) -> None:
    ids = [register_ward(world, name=f"Tổ {n}").id for n in range(3)]
    clock.set(datetime.now(UTC))
    _far, far_text = real_instant(600)
    world.set_deadlines("quantri", Q12, report=far_text)
    running()
    campaign_id = scalar(engine, "SELECT id FROM campaigns WHERE code = :c", c=Q12)
    job = f"campaign:{campaign_id}:report"
    wait_for(lambda: next_run(engine, job), 15, "the report deadline's job")
    # The catch-up at start closes registration (05/05/2022 passed) but expires nothing.
    wait_for(
        lambda: scalar(
            engine,
            "SELECT count(*) FROM audit_log WHERE stream = :s AND trigger = 'close_registration'",
            s=f"campaign:{campaign_id}",
        ),
        15,
        "the catch-up at start",
    )
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE trigger = 'expire'") == 0
    deadline, text = real_instant(3)
    clock.set(datetime.now(UTC))
    world.set_deadlines("quantri", Q12, report=text)
    wait_for(
        lambda: next_run(engine, job) == deadline.timestamp(),
        15,
        "the job to move to the new deadline",
    )
    assert [world.show(n).state for n in ids] == ["registered"] * 3
    wait_for(
        lambda: all(world.show(n).state == "expired" for n in ids), 20, "the sweep at the deadline"
    )
    assert datetime.now(UTC) >= deadline
    assert scalar(engine, "SELECT count(*) FROM audit_log WHERE trigger = 'expire'") == 3
    assert world.history(ids[0])[-1].at >= deadline
    assert world.verify().ok


def test_a_second_scheduler_waits_while_the_first_holds_the_lease(
    world: Service, engine: sa.Engine, running: Callable[[], DeadlineScheduler]
) -> None:
    first = running()
    wait_for(lambda: first.lease is not None, 15, "the first scheduler's lease")
    second = running()
    time.sleep(1.0)
    assert second.lease is None
    assert scalar(engine, "SELECT holder FROM scheduler_lease") == first.settings.holder
    assert scalar(engine, "SELECT fencing FROM scheduler_lease") == 1


def test_a_scheduler_that_lost_its_lease_stops_its_jobs(engine: sa.Engine, db_url: str) -> None:
    clock = FixedClock(datetime.now(UTC))
    settings = SchedulerSettings(database_url=db_url, lease_seconds=5, holder="first")
    scheduler = DeadlineScheduler(settings, clock)
    try:
        assert scheduler.step() is True
        assert scheduler.running and scheduler.lease is not None
        assert scheduler.lease.fencing == 1
        assert scheduler.step() is True  # renewed
        clock.advance(timedelta(seconds=6))  # it paused past its lease
        taken = lease.acquire(engine, "second", timedelta(seconds=5), clock.now())
        assert taken is not None and taken.fencing == 2
        assert scheduler.step() is False
        assert not scheduler.running and scheduler.lease is None
        assert scheduler.step() is False  # waits while the second holds the lease
    finally:
        scheduler.close()
    assert scalar(engine, "SELECT holder FROM scheduler_lease") == "second"


def test_the_scheduler_signs_an_audit_checkpoint_every_day_when_given_a_key(
    world: Service, engine: sa.Engine, db_url: str, tmp_path: Any
) -> None:
    settings = SchedulerSettings(
        database_url=db_url,
        lease_seconds=5,
        renew_seconds=0.2,
        catch_up_seconds=3600,
        checkpoint_key=str(tmp_path / "auditor.key"),
        checkpoint_dir=str(tmp_path / "checkpoints"),
        checkpoint_time="00:05",
    )
    scheduler, stop = DeadlineScheduler(settings), threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    try:
        run_at = wait_for(lambda: next_run(engine, CHECKPOINT_JOB), 20, "the checkpoint job")
        local = datetime.fromtimestamp(run_at, UTC).astimezone(VIETNAM)
        assert (local.hour, local.minute, local.second) == (0, 5, 0)
        assert timedelta(0) < local - datetime.now(UTC) <= timedelta(days=1)
        scheduler.sync()  # following the campaigns' deadlines keeps the daily job
        assert next_run(engine, CHECKPOINT_JOB) == run_at
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_checkpoint_key_without_a_folder_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValueError, match="THIDUA_CHECKPOINT_KEY and THIDUA_CHECKPOINT_DIR"):
        SchedulerSettings.from_env("sqlite://", {"THIDUA_CHECKPOINT_KEY": "/k/auditor.key"})
    with pytest.raises(ValueError, match="'25:00' is not a time of day"):
        SchedulerSettings.from_env(
            "sqlite://",
            {
                "THIDUA_CHECKPOINT_KEY": "/k/auditor.key",
                "THIDUA_CHECKPOINT_DIR": "/k",
                "THIDUA_CHECKPOINT_TIME": "25:00",
            },
        )
