"""Reminders before each deadline, as outbox requests (event and template "reminder").

Before the report deadline every officer with pending work in the campaign hears how many of
the nominations in their scope are still `registered` or `implemented`; before the registration
deadline every officer of a unit under the issuing unit hears how many units of their scope have
registered nothing yet. Each (deadline, offset) is done once (a `deadline_events` row); the
outbox key "reminder:<campaign id>:<kind>:<offset>:<person id>" makes each message unique.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.expiry import EXPIRABLE
from workflow.outbox import enqueue
from workflow.schedule_tables import DeadlineEvent
from workflow.tables import Campaign, Nomination, RoleGrant, Unit

__all__ = ["due_offsets", "send_reminders"]


def due_offsets(
    deadline: datetime, reminder_days: list[int], now: datetime
) -> list[tuple[int, datetime]]:
    """The (offset, instant) reminders of one deadline that are due at `now`, latest first."""
    if now >= deadline:
        return []
    due = [(days, deadline - timedelta(days=days)) for days in reminder_days]
    return sorted(((d, at) for d, at in due if at <= now), key=lambda item: item[0])


def _report_pending(session: Session, campaign: Campaign) -> Counter[int]:
    """Person id → pending nominations in their officer scope (and the ones they proposed)."""
    pending_units = session.execute(
        select(Unit.path, func.count())
        .join(Nomination, Nomination.unit_id == Unit.id)
        .where(Nomination.campaign_id == campaign.id, Nomination.state.in_(EXPIRABLE))
        .group_by(Unit.path)
    ).all()
    counts: Counter[int] = Counter()
    if not pending_units:
        return counts
    officers = session.execute(
        select(RoleGrant.person_id, Unit.path)
        .join(Unit, RoleGrant.unit_id == Unit.id)
        .where(RoleGrant.role == "officer")
    ).all()
    for person_id, scope in officers:
        counts[person_id] = max(
            counts[person_id],
            sum(n for path, n in pending_units if path.startswith(scope)),
        )
    proposers = session.execute(
        select(Nomination.proposer_id, func.count())
        .where(Nomination.campaign_id == campaign.id, Nomination.state.in_(EXPIRABLE))
        .group_by(Nomination.proposer_id)
    ).all()
    for person_id, n in proposers:
        counts[person_id] = max(counts[person_id], n)
    return +counts


def _registration_pending(session: Session, campaign: Campaign) -> Counter[int]:
    """Person id → units of their scope (under the issuing unit) with no nomination yet."""
    issuing = session.get_one(Unit, campaign.issuing_unit_id)
    nominated = set(
        session.scalars(select(Nomination.unit_id).where(Nomination.campaign_id == campaign.id))
    )
    units = session.execute(
        select(Unit.id, Unit.path).where(Unit.path.startswith(issuing.path, autoescape=True))
    ).all()
    officers = session.execute(
        select(RoleGrant.person_id, Unit.path)
        .join(Unit, RoleGrant.unit_id == Unit.id)
        .where(RoleGrant.role == "officer", Unit.path.startswith(issuing.path, autoescape=True))
    ).all()
    counts: Counter[int] = Counter()
    for person_id, scope in officers:
        waiting = sum(1 for uid, path in units if path.startswith(scope) and uid not in nominated)
        counts[person_id] = max(counts[person_id], waiting)
    return counts


def send_reminders(
    session: Session, campaign: Campaign, reminder_days: list[int], now: datetime
) -> int:
    """Enqueue the reminders due at `now` that were not sent yet; the number of messages."""
    sent = 0
    for kind, deadline in (
        ("registration", campaign.registration_deadline),
        ("report", campaign.report_deadline),
    ):
        due = due_offsets(deadline, reminder_days, now)
        done = set(
            session.scalars(
                select(DeadlineEvent.what).where(
                    DeadlineEvent.campaign_id == campaign.id,
                    DeadlineEvent.kind == kind,
                    DeadlineEvent.deadline == deadline,
                )
            )
        )
        todo = [(days, at) for days, at in due if f"reminder:{days}" not in done]
        if not todo:
            continue
        # Only the nearest reminder goes out; earlier ones a stopped scheduler missed are skipped.
        days = todo[0][0]
        recipients = (
            _report_pending(session, campaign)
            if kind == "report"
            else _registration_pending(session, campaign)
        )
        for person_id, pending in sorted(recipients.items()):
            added = enqueue(
                session,
                key=f"reminder:{campaign.id}:{kind}:{days}:{person_id}",
                event="reminder",
                template="reminder",
                recipient_id=person_id,
                payload={
                    "campaign_code": campaign.code,
                    "campaign_name": campaign.name,
                    "deadline_kind": kind,
                    "deadline": deadline.isoformat(),
                    "pending": pending,
                },
                now=now,
                campaign_id=campaign.id,
            )
            sent += added
        for offset, _at in todo:
            session.add(
                DeadlineEvent(
                    campaign_id=campaign.id,
                    kind=kind,
                    what=f"reminder:{offset}",
                    deadline=deadline,
                    done_at=now,
                    recipients=len(recipients) if offset == days else 0,
                )
            )
    return sent
