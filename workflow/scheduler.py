"""The waker: APScheduler 3 under a lease, one running per database.

    DeadlineScheduler(settings).run(stop)   — `thidua scheduler`, or a thread of `thidua serve`

Each round (every `renew_every`) the process renews its lease, or tries to take it. While it
holds the lease it runs a BackgroundScheduler whose job store is the same database: one date job
per deadline and per reminder (DateTrigger, `misfire_grace_time=None`, coalescing, deterministic
ids, `replace_existing`), all naming `workflow.deadlines:run_job` by text with plain arguments
(the database URL and the lease's fencing counter), plus an interval catch-up job that also runs
once at start — so a deadline that passed while nothing ran is applied then. The jobs follow
the campaigns: each round adds, moves or removes them. A process that loses its lease shuts its
scheduler down; the fencing counter stops whatever sweep it still had running.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from workflow import lease
from workflow.clock import Clock, SystemClock
from workflow.db import READ_ONLY, make_engine
from workflow.deadlines import JOB_TARGET
from workflow.schedule_tables import DEFAULT_REMINDER_DAYS, CampaignSchedule
from workflow.tables import Campaign
from workflow.timeutil import VIETNAM

__all__ = [
    "CATCH_UP_JOB",
    "CHECKPOINT_JOB",
    "DeadlineScheduler",
    "SchedulerSettings",
    "wanted_jobs",
]

log = structlog.get_logger("thidua.scheduler")

CATCH_UP_JOB = "catch-up"
CHECKPOINT_JOB = "audit-checkpoint"
CHECKPOINT_TARGET = "workflow.checkpoints:scheduled_checkpoint"
JOBS_TABLE = "apscheduler_jobs"


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class SchedulerSettings:
    database_url: str
    lease_seconds: float = 30.0
    renew_seconds: float = 10.0
    catch_up_seconds: float = 60.0
    holder: str = field(default_factory=_holder)
    #: The auditor's private key and the folder for signed checkpoints: with both set, the
    #: scheduler signs one every day at `checkpoint_time` (HH:MM, Vietnam time).
    checkpoint_key: str | None = None
    checkpoint_dir: str | None = None
    checkpoint_time: str = "00:05"

    @classmethod
    def from_env(cls, database_url: str, env: Mapping[str, str]) -> SchedulerSettings:
        values: dict[str, Any] = {}
        for key, name in (
            ("lease_seconds", "THIDUA_LEASE_SECONDS"),
            ("renew_seconds", "THIDUA_LEASE_RENEW_SECONDS"),
            ("catch_up_seconds", "THIDUA_CATCH_UP_SECONDS"),
        ):
            if env.get(name):
                try:
                    values[key] = float(env[name])
                except ValueError as exc:
                    raise ValueError(f"{name} '{env[name]}' is not a number of seconds") from exc
        for key, name in (
            ("checkpoint_key", "THIDUA_CHECKPOINT_KEY"),
            ("checkpoint_dir", "THIDUA_CHECKPOINT_DIR"),
            ("checkpoint_time", "THIDUA_CHECKPOINT_TIME"),
        ):
            if env.get(name):
                values[key] = env[name]
        if ("checkpoint_key" in values) != ("checkpoint_dir" in values):
            raise ValueError(
                "THIDUA_CHECKPOINT_KEY and THIDUA_CHECKPOINT_DIR go together: set both or neither"
            )
        settings = cls(database_url=database_url, **values)
        settings.checkpoint_trigger()  # a bad THIDUA_CHECKPOINT_TIME fails here, not at midnight
        return settings

    def checkpoint_trigger(self) -> CronTrigger:
        """Every day at `checkpoint_time`, Vietnam time."""
        hour, _, minute = self.checkpoint_time.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(
                f"THIDUA_CHECKPOINT_TIME '{self.checkpoint_time}' is not a time of day HH:MM"
            )
        return CronTrigger(hour=int(hour), minute=int(minute), timezone=VIETNAM)


def wanted_jobs(engine: Engine, now: datetime) -> dict[str, datetime]:
    """Job id → run instant, for every deadline and reminder still ahead of `now`."""
    wanted: dict[str, datetime] = {}
    with Session(engine.execution_options(**READ_ONLY)) as session:
        rows = session.execute(
            select(
                Campaign.id,
                Campaign.registration_deadline,
                Campaign.report_deadline,
                CampaignSchedule.reminder_days,
            ).outerjoin(CampaignSchedule, CampaignSchedule.campaign_id == Campaign.id)
        ).all()
    for campaign_id, registration, report, reminder_days in rows:
        days = list(reminder_days or DEFAULT_REMINDER_DAYS)
        for kind, deadline in (("registration", registration), ("report", report)):
            if deadline > now:
                wanted[f"campaign:{campaign_id}:{kind}"] = deadline
            for offset in days:
                at = deadline - timedelta(days=offset)
                if at > now:
                    wanted[f"campaign:{campaign_id}:{kind}:reminder:{offset}"] = at
    return wanted


class DeadlineScheduler:
    """Holds the lease and runs APScheduler while it does; `run(stop)` until `stop` is set."""

    def __init__(self, settings: SchedulerSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._engine: Engine | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._lease: lease.Lease | None = None

    @property
    def lease(self) -> lease.Lease | None:
        return self._lease

    @property
    def running(self) -> bool:
        """True while this process runs APScheduler (it holds the lease)."""
        return self._scheduler is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def _ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    def _args(self) -> list[Any]:
        assert self._lease is not None
        return [self.settings.database_url, self._lease.fencing]

    def _start(self) -> None:
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=JOBS_TABLE)},
            executors={"default": {"type": "threadpool", "max_workers": 1}},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
        )
        scheduler.start(paused=True)
        self._scheduler = scheduler
        self.sync()
        scheduler.add_job(
            JOB_TARGET,
            trigger=IntervalTrigger(seconds=self.settings.catch_up_seconds, timezone=UTC),
            id=CATCH_UP_JOB,
            name="deadlines catch-up",
            args=self._args(),
            replace_existing=True,
            next_run_time=self.clock.now(),
        )
        if self.settings.checkpoint_key and self.settings.checkpoint_dir:
            scheduler.add_job(
                CHECKPOINT_TARGET,
                trigger=self.settings.checkpoint_trigger(),
                id=CHECKPOINT_JOB,
                name="signed audit checkpoint",
                args=[
                    self.settings.database_url,
                    self.settings.checkpoint_key,
                    self.settings.checkpoint_dir,
                ],
                replace_existing=True,
            )
        scheduler.resume()
        log.info("scheduler.started", holder=self.settings.holder, fencing=self._lease_fencing())

    def _lease_fencing(self) -> int | None:
        return self._lease.fencing if self._lease else None

    def _stop_scheduler(self, wait: bool) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=wait)
            self._scheduler = None
            log.info("scheduler.stopped", holder=self.settings.holder)

    def sync(self) -> int:
        """Bring the date jobs in line with the campaigns' deadlines; the number of changes."""
        scheduler = self._scheduler
        if scheduler is None:
            return 0
        wanted = wanted_jobs(self.engine, self.clock.now())
        args = self._args()
        changes = 0
        existing = {job.id: job for job in scheduler.get_jobs()}
        for job_id in existing:
            if job_id not in (CATCH_UP_JOB, CHECKPOINT_JOB) and job_id not in wanted:
                scheduler.remove_job(job_id)
                changes += 1
        for job_id, at in wanted.items():
            job = existing.get(job_id)
            if (
                job is not None
                and isinstance(job.trigger, DateTrigger)
                and job.trigger.run_date == at
                and list(job.args) == args
            ):
                continue
            scheduler.add_job(
                JOB_TARGET,
                trigger=DateTrigger(run_date=at, timezone=UTC),
                id=job_id,
                name=job_id,
                args=args,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
            )
            changes += 1
        if changes:
            log.info("scheduler.synced", jobs=len(wanted), changes=changes)
        return changes

    def step(self) -> bool:
        """One round: renew or take the lease, start or stop the scheduler; True while holding."""
        now = self.clock.now()
        if self._lease is not None:
            self._lease = lease.renew(self.engine, self._lease, self._ttl(), now)
            if self._lease is None:
                log.warning("scheduler.lease_lost", holder=self.settings.holder)
                # A sweep still running stops at its next transaction: its fencing is stale.
                self._stop_scheduler(wait=True)
                return False
            self.sync()
            return True
        self._lease = lease.acquire(self.engine, self.settings.holder, self._ttl(), now)
        if self._lease is None:
            return False
        log.info("scheduler.lease_taken", holder=self.settings.holder, fencing=self._lease.fencing)
        self._start()
        return True

    def run(self, stop: threading.Event) -> None:
        """Hold the lease and run the jobs until `stop` is set; then stop and free the lease."""
        log.info("scheduler.waiting", holder=self.settings.holder)
        try:
            while not stop.is_set():
                try:
                    self.step()
                except Exception:  # a database hiccup must not end the scheduler
                    log.exception("scheduler.round_failed")
                stop.wait(self.settings.renew_seconds)
        finally:
            self.close()

    def close(self) -> None:
        self._stop_scheduler(wait=True)
        if self._lease is not None:
            lease.release(self.engine, self._lease, self.clock.now())
            self._lease = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
