"""The deadlines' tables: each campaign's time limits, escalations, the scheduler's lease.

Mapped on the same `Base` as workflow.tables; migration 0003 creates them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.tables import Base, BigId

__all__ = ["CampaignSchedule", "DeadlineEvent", "Escalation", "SchedulerLease"]

#: A review level's time limit, in working days (DESIGN §2: about 10 working days).
DEFAULT_REVIEW_DAYS = 10
#: Reminders go out this many days before each deadline.
DEFAULT_REMINDER_DAYS: tuple[int, ...] = (7, 1)


class CampaignSchedule(Base):
    """A campaign's time limits beside its deadlines; a campaign without a row has the defaults."""

    __tablename__ = "campaign_schedules"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    review_days: Mapped[int] = mapped_column(Integer)
    #: Days before each deadline at which reminders go out, largest first.
    reminder_days: Mapped[list[int]] = mapped_column(JSON)
    #: When the sweep closed the campaign for registration (audited on the campaign's stream).
    registration_closed_at: Mapped[datetime | None]


class DeadlineEvent(Base):
    """Scheduled work done once for a deadline: "reminder:7", "reminder:1" …

    Unique per (campaign, deadline kind, what, deadline instant): a moved deadline gets its own.
    """

    __tablename__ = "deadline_events"
    __table_args__ = (UniqueConstraint("campaign_id", "kind", "what", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    kind: Mapped[str] = mapped_column(String(16))
    what: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[datetime]
    done_at: Mapped[datetime]
    recipients: Mapped[int] = mapped_column(Integer)


class Escalation(Base):
    """A review time limit passed at `level`; the level above (`to_level`) is told.

    One per visit of a level: `visit_seq` is the audit entry with which the nomination reached it.
    """

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("nomination_id", "visit_seq", name="uq_escalation_visit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(BigId, ForeignKey("nominations.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    level: Mapped[str] = mapped_column(String(16))
    to_level: Mapped[str] = mapped_column(String(16))
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    visit_seq: Mapped[int] = mapped_column(Integer)
    reached_at: Mapped[datetime]
    due_at: Mapped[datetime]
    raised_at: Mapped[datetime]


class SchedulerLease(Base):
    """Who runs the scheduler of this database, until when; `fencing` grows with each holder."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    fencing: Mapped[int] = mapped_column(BigId)
