"""A campaign's time limits (review days, reminder offsets) and the audited change of its deadlines.

Changing a deadline appends one "deadline_changed" annotation to the campaign's stream. It never
revives an expired nomination (expiry is final in the state model), and the registration deadline
cannot move once it has passed: registration closed for everyone at the same instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import DEFINITION_VERSION
from workflow import audit
from workflow.directory import Principal, covers
from workflow.errors import DeadlinePassed, Forbidden, InvalidInput
from workflow.schedule_tables import DEFAULT_REMINDER_DAYS, DEFAULT_REVIEW_DAYS, CampaignSchedule
from workflow.tables import Campaign
from workflow.timeutil import format_local, parse_instant

__all__ = ["DeadlineChange", "campaign_state", "change_deadlines", "schedule_of"]

#: The campaign's states on its audit stream.
OPEN, REGISTRATION_CLOSED = "open", "registration_closed"


def schedule_of(session: Session, campaign_id: int) -> CampaignSchedule:
    """The campaign's schedule row, created with the defaults when it has none yet."""
    found = session.get(CampaignSchedule, campaign_id)
    if found is None:
        found = CampaignSchedule(
            campaign_id=campaign_id,
            review_days=DEFAULT_REVIEW_DAYS,
            reminder_days=list(DEFAULT_REMINDER_DAYS),
            registration_closed_at=None,
        )
        session.add(found)
    return found


def campaign_state(schedule: CampaignSchedule | None) -> str:
    return REGISTRATION_CLOSED if schedule and schedule.registration_closed_at else OPEN


@dataclass(frozen=True)
class DeadlineChange:
    """What an admin asks to change; None keeps the current value."""

    registration: str | None = None
    report: str | None = None
    review_days: int | None = None
    reminder_days: list[int] | None = None


def _check_days(change: DeadlineChange) -> None:
    if change.review_days is not None and not 1 <= change.review_days <= 365:
        raise InvalidInput(f"review time limit {change.review_days} must be 1 to 365 working days")
    if change.reminder_days is not None and any(
        not 1 <= day <= 365 for day in change.reminder_days
    ):
        raise InvalidInput(
            f"reminder days {change.reminder_days} must each be 1 to 365 days before a deadline"
        )


def change_deadlines(
    session: Session,
    principal: Principal,
    campaign: Campaign,
    change: DeadlineChange,
    now: datetime,
) -> dict[str, Any]:
    """Apply `change`, append its "deadline_changed" entry; the new values (Vietnam time)."""
    grant = next(
        (g for g in principal.holding("admin") if covers(g.unit, campaign.issuing_unit)), None
    )
    if grant is None:
        raise Forbidden(
            "role",
            f"{principal.username} is not an admin of {campaign.issuing_unit.name} "
            f"({campaign.issuing_unit.code}), which issued campaign {campaign.code}",
        )
    _check_days(change)
    schedule = schedule_of(session, campaign.id)
    before: dict[str, Any] = {
        "registration_deadline": campaign.registration_deadline.isoformat(),
        "report_deadline": campaign.report_deadline.isoformat(),
        "review_days": schedule.review_days,
        "reminder_days": list(schedule.reminder_days),
    }
    registration = (
        parse_instant(change.registration, "registration deadline")
        if change.registration
        else campaign.registration_deadline
    )
    report = parse_instant(change.report, "report deadline") if change.report else None
    report = report or campaign.report_deadline
    if registration != campaign.registration_deadline and (
        now >= campaign.registration_deadline or schedule.registration_closed_at is not None
    ):
        raise DeadlinePassed(
            "registration_deadline",
            f"registration for campaign {campaign.code} closed at "
            f"{format_local(campaign.registration_deadline)} (Vietnam time); "
            "its deadline can no longer be moved",
        )
    if report <= registration:
        raise InvalidInput(
            f"report deadline {format_local(report)} must come after the registration deadline "
            f"{format_local(registration)} (Vietnam time)"
        )
    campaign.registration_deadline = registration
    campaign.report_deadline = report
    if change.review_days is not None:
        schedule.review_days = change.review_days
    if change.reminder_days is not None:
        schedule.reminder_days = sorted(set(change.reminder_days), reverse=True)
    after: dict[str, Any] = {
        "registration_deadline": registration.isoformat(),
        "report_deadline": report.isoformat(),
        "review_days": schedule.review_days,
        "reminder_days": list(schedule.reminder_days),
    }
    if after == before:
        raise InvalidInput(f"campaign {campaign.code} already has these deadlines: nothing changed")
    state = campaign_state(schedule)
    audit.record(
        session,
        campaign,
        f"campaign:{campaign.id}",
        at=now,
        actor=audit.Actor(principal.id, principal.person.full_name, "admin", grant.unit.code),
        trigger="deadline_changed",
        from_state=state,
        to_state=state,
        payload={"changed": {k: [before[k], after[k]] for k in after if before[k] != after[k]}},
        definition_version=DEFINITION_VERSION,
    )
    return {
        "campaign": campaign.code,
        "registration_deadline": format_local(registration),
        "report_deadline": format_local(report),
        "review_days": schedule.review_days,
        "reminder_days": list(schedule.reminder_days),
    }


def schedules_by_campaign(session: Session) -> dict[int, CampaignSchedule]:
    return {row.campaign_id: row for row in session.scalars(select(CampaignSchedule))}
