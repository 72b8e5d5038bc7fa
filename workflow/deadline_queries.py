"""What is due next, and what the deadlines raised: for `thidua deadlines`, `escalations`,
`reminders` (times shown in Vietnam time, dd/mm/yyyy HH:MM)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from workflow.expiry import EXPIRABLE
from workflow.reviews import waiting_reviews
from workflow.schedule_tables import DEFAULT_REMINDER_DAYS, CampaignSchedule, Escalation
from workflow.tables import Campaign, Nomination, OutboxMessage, Person, Unit
from workflow.timeutil import format_local

__all__ = ["escalations", "reminders", "upcoming"]


def upcoming(
    session: Session,
    now: datetime,
    limit: int = 50,
    readable: Callable[[Sequence[int]], set[int]] | None = None,
) -> list[dict[str, Any]]:
    """Deadlines, reminders and review time limits from `now` on, soonest first; work whose
    instant has passed but that no sweep has applied yet comes first, as "due". With
    `readable` (nomination ids → those a reader may read), review time limits of others are
    left out."""
    open_counts = dict(
        session.execute(
            select(Nomination.campaign_id, func.count())
            .where(Nomination.state.in_(EXPIRABLE))
            .group_by(Nomination.campaign_id)
        ).all()
    )
    items: list[tuple[datetime, dict[str, Any]]] = []

    def add(at: datetime, what: str, campaign: str, detail: str) -> None:
        status = "due" if at <= now else "upcoming"
        items.append(
            (
                at,
                {
                    "at": format_local(at),
                    "status": status,
                    "what": what,
                    "campaign": campaign,
                    "detail": detail,
                },
            )
        )

    rows = session.execute(
        select(Campaign, CampaignSchedule).outerjoin(
            CampaignSchedule, CampaignSchedule.campaign_id == Campaign.id
        )
    ).all()
    codes = {}
    for campaign, schedule in rows:
        codes[campaign.id] = campaign.code
        days = list(schedule.reminder_days) if schedule else list(DEFAULT_REMINDER_DAYS)
        closed = schedule is not None and schedule.registration_closed_at is not None
        pending = open_counts.get(campaign.id, 0)
        if campaign.registration_deadline > now or not closed:
            add(
                campaign.registration_deadline,
                "registration deadline",
                campaign.code,
                "registration closes",
            )
        if campaign.report_deadline > now or pending:
            add(
                campaign.report_deadline,
                "report deadline",
                campaign.code,
                f"{pending} nomination(s) still registered or implemented expire",
            )
        for kind, deadline in (
            ("registration", campaign.registration_deadline),
            ("report", campaign.report_deadline),
        ):
            for offset in days:
                at = deadline - timedelta(days=offset)
                if at > now:
                    add(
                        at, "reminder", campaign.code, f"{offset} day(s) before the {kind} deadline"
                    )
    raised = set(session.execute(select(Escalation.nomination_id, Escalation.visit_seq)).all())
    waiting_now = waiting_reviews(session)
    shown = None if readable is None else readable([w.nomination_id for w in waiting_now])
    for waiting in waiting_now:
        if shown is not None and waiting.nomination_id not in shown:
            continue
        if (waiting.nomination_id, waiting.visit_seq) in raised:
            continue
        add(
            waiting.due_at,
            "review time limit",
            codes.get(waiting.campaign_id, "?"),
            f"nomination {waiting.nomination_id} awaits '{waiting.level}' since "
            f"{format_local(waiting.reached_at)}",
        )
    items.sort(key=lambda item: (item[1]["status"] != "due", item[0]))
    return [item for _at, item in items[:limit]]


def escalations(session: Session, campaign: str | None = None) -> list[dict[str, Any]]:
    to_unit = aliased(Unit)
    query = (
        select(Escalation, Campaign.code, Nomination.nominee_name, Nomination.state, to_unit.code)
        .join(Campaign, Campaign.id == Escalation.campaign_id)
        .join(Nomination, Nomination.id == Escalation.nomination_id)
        .outerjoin(to_unit, to_unit.id == Escalation.to_unit_id)
        .order_by(Escalation.raised_at, Escalation.id)
    )
    if campaign is not None:
        query = query.where(Campaign.code == campaign)
    return [
        {
            "nomination": row.nomination_id,
            "campaign": code,
            "nominee_name": nominee,
            "state": state,
            "level": row.level,
            "to_level": row.to_level,
            "to_unit": unit,
            "reached": format_local(row.reached_at),
            "due": format_local(row.due_at),
            "raised": format_local(row.raised_at),
        }
        for row, code, nominee, state, unit in session.execute(query)
    ]


def reminders(session: Session, campaign: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(OutboxMessage, Person.username)
        .outerjoin(Person, Person.id == OutboxMessage.recipient_id)
        .where(OutboxMessage.event == "reminder")
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    found = []
    for message, username in session.execute(query):
        payload = message.payload
        if campaign is not None and payload.get("campaign_code") != campaign:
            continue
        found.append(
            {
                "campaign": payload.get("campaign_code"),
                "kind": payload.get("deadline_kind"),
                "deadline": format_local(datetime.fromisoformat(payload["deadline"])),
                "to": username,
                "pending": payload.get("pending"),
                "queued": format_local(message.created_at),
                "delivered": message.delivered_at is not None,
            }
        )
    return found
