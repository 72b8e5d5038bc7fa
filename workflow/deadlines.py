"""All work that is due at an instant: the deadlines' sweep.

    run_due(engine, now, fencing)  — what `thidua tick` and every scheduler job call:
      1. each campaign whose registration deadline passed is closed for registration
         (a "close_registration" entry on its stream, open → registration_closed);
      2. the reminders due before each deadline go to the outbox;
      3. at the report deadline every `registered`/`implemented` nomination expires (expiry.py);
      4. reviews past their level's time limit are marked overdue and escalated (reviews.py).

Every step is idempotent — a second run at the same instant writes nothing — and every
transaction checks the scheduler lease's fencing counter when given one (lease.py).
`run_job` is the scheduler's job target, named by text ("workflow.deadlines:run_job") with plain
arguments, so a job stored in the database survives restarts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from states import DEFINITION_VERSION
from workflow import audit
from workflow.clock import SystemClock
from workflow.db import READ_ONLY, make_engine
from workflow.errors import StaleLease
from workflow.expiry import EXPIRABLE, DueCampaign, expire_campaign
from workflow.lease import check_fencing
from workflow.reminders import due_offsets, send_reminders
from workflow.reviews import mark_overdue
from workflow.schedule_tables import DEFAULT_REMINDER_DAYS, CampaignSchedule
from workflow.schedules import OPEN, REGISTRATION_CLOSED, schedule_of
from workflow.tables import Campaign, Nomination

__all__ = ["JOB_TARGET", "SweepReport", "run_due", "run_job"]

log = structlog.get_logger("thidua.deadlines")

#: The scheduler's job target, by text.
JOB_TARGET = "workflow.deadlines:run_job"


@dataclass
class SweepReport:
    """What one run did: nothing at all when it ran before at the same instant."""

    closed: list[str] = field(default_factory=list)
    reminders: int = 0
    expired: int = 0
    overdue: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _close_registration(
    engine: Engine, campaign_id: int, now: datetime, fencing: int | None
) -> str | None:
    with Session(engine, autoflush=False) as session, session.begin():
        check_fencing(session.connection(), fencing)
        campaign = session.scalars(select(Campaign).where(Campaign.id == campaign_id)).one()
        schedule = schedule_of(session, campaign.id)
        if schedule.registration_closed_at is not None or now < campaign.registration_deadline:
            return None
        schedule.registration_closed_at = now
        audit.record(
            session,
            campaign,
            f"campaign:{campaign.id}",
            at=now,
            actor=audit.SYSTEM,
            trigger="close_registration",
            from_state=OPEN,
            to_state=REGISTRATION_CLOSED,
            payload={"registration_deadline": campaign.registration_deadline.isoformat()},
            definition_version=DEFINITION_VERSION,
        )
        return campaign.code


def _remind(engine: Engine, campaign_id: int, now: datetime, fencing: int | None) -> int:
    with Session(engine, autoflush=False) as session, session.begin():
        check_fencing(session.connection(), fencing)
        campaign = session.scalars(
            select(Campaign)
            .where(Campaign.id == campaign_id)
            .options(joinedload(Campaign.issuing_unit))
        ).one()
        schedule = session.get(CampaignSchedule, campaign_id)
        days = list(schedule.reminder_days) if schedule else list(DEFAULT_REMINDER_DAYS)
        return send_reminders(session, campaign, days, now)


def run_due(
    engine: Engine, now: datetime, fencing: int | None = None, batch: int = 5000
) -> SweepReport:
    """Apply every deadline, reminder and review time limit due at `now`."""
    report = SweepReport()
    with Session(engine.execution_options(**READ_ONLY)) as session:
        campaigns = session.execute(
            select(
                Campaign.id,
                Campaign.code,
                Campaign.name,
                Campaign.registration_deadline,
                Campaign.report_deadline,
                CampaignSchedule.registration_closed_at,
                CampaignSchedule.reminder_days,
            )
            .outerjoin(CampaignSchedule, CampaignSchedule.campaign_id == Campaign.id)
            .order_by(Campaign.id)
        ).all()
        open_campaigns = set(
            session.scalars(
                select(Nomination.campaign_id)
                .where(Nomination.state.in_(EXPIRABLE))
                .group_by(Nomination.campaign_id)
            )
        )
    for row in campaigns:
        if row.registration_deadline <= now and row.registration_closed_at is None:
            try:
                closed = _close_registration(engine, row.id, now, fencing)
            except (StaleDataError, IntegrityError):
                closed = None  # another sweep closed it first
            if closed:
                report.closed.append(closed)
        days = list(row.reminder_days or DEFAULT_REMINDER_DAYS)
        reminding = due_offsets(row.registration_deadline, days, now) or due_offsets(
            row.report_deadline, days, now
        )
        if reminding:
            try:
                report.reminders += _remind(engine, row.id, now, fencing)
            except IntegrityError:
                log.info("reminders.skipped", campaign=row.code, why="another sweep sent them")
        if now >= row.report_deadline and row.id in open_campaigns:
            due = DueCampaign(row.id, row.code, row.name, row.report_deadline)
            report.expired += expire_campaign(engine, due, now, fencing, batch)
    report.overdue = mark_overdue(engine, now, fencing)
    log.info("deadlines.swept", **report.to_dict())
    return report


def run_job(database_url: str, fencing: int | None = None) -> dict[str, Any]:
    """The scheduler's job: run everything due now on the database at `database_url`."""
    engine = make_engine(database_url)
    try:
        with structlog.contextvars.bound_contextvars(job="deadlines", fencing=fencing):
            try:
                return run_due(engine, SystemClock().now(), fencing).to_dict()
            except StaleLease as exc:
                log.warning("deadlines.stale_lease", message=str(exc))
                return {"stale_lease": True}
    finally:
        engine.dispose()
