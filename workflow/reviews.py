"""Review time limits: a nomination that waited at a level longer than the campaign's limit (in
working days, from the audit entry with which it reached the level) is marked overdue — an
annotation "marked_overdue", once per visit of the level — and escalated to the level above.

Nothing is approved or rejected. The escalation is a row of `escalations` and outbox messages:
"overdue" to the proposer, "escalated" to each approver of the unit at the level above (for the
top of the nomination's chain: the approvers of the campaign's issuing unit).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from workflow import audit, notify
from workflow.db import READ_ONLY
from workflow.lease import check_fencing
from workflow.outbox import enqueue
from workflow.schedule_tables import DEFAULT_REVIEW_DAYS, CampaignSchedule, Escalation
from workflow.tables import AuditEntry, Campaign, Nomination, RoleGrant, Unit
from workflow.workdays import review_due

__all__ = ["Waiting", "mark_overdue", "waiting_reviews"]

log = structlog.get_logger("thidua.deadlines")


@dataclass(frozen=True)
class Waiting:
    """A nomination waiting for a level's review since the entry `visit_seq`."""

    nomination_id: int
    campaign_id: int
    level: str
    visit_seq: int
    reached_at: datetime
    due_at: datetime


def waiting_reviews(session: Session, only: Collection[int] | None = None) -> list[Waiting]:
    """Every nomination awaiting a review (or those of `only`), with the instant its level's
    time limit ends."""
    limits: dict[int, int] = dict(
        session.execute(select(CampaignSchedule.campaign_id, CampaignSchedule.review_days)).all()
    )
    query = select(Nomination.id, Nomination.campaign_id, Nomination.awaiting).where(
        Nomination.awaiting.is_not(None)
    )
    if only is not None:
        query = query.where(Nomination.id.in_(sorted(only)))
    awaiting = session.execute(query).all()
    found: list[Waiting] = []
    for start in range(0, len(awaiting), 500):
        chunk = {
            f"nomination:{nid}": (nid, cid, level)
            for nid, cid, level in awaiting[start : start + 500]
        }
        # The visit began with the newest entry that changed the state (annotations keep it).
        last = (
            select(AuditEntry.stream, func.max(AuditEntry.seq).label("seq"))
            .where(
                AuditEntry.stream.in_(chunk),
                or_(AuditEntry.from_state.is_(None), AuditEntry.from_state != AuditEntry.to_state),
            )
            .group_by(AuditEntry.stream)
            .subquery()
        )
        rows = session.execute(
            select(AuditEntry.stream, AuditEntry.seq, AuditEntry.at).join(
                last, (AuditEntry.stream == last.c.stream) & (AuditEntry.seq == last.c.seq)
            )
        )
        for stream, seq, at in rows:
            nid, cid, level = chunk[stream]
            assert level is not None
            days = limits.get(cid, DEFAULT_REVIEW_DAYS)
            found.append(Waiting(nid, cid, level, seq, at, review_due(at, days)))
    return sorted(found, key=lambda w: (w.due_at, w.nomination_id))


def _escalation_unit(session: Session, nomination: Nomination, to_level: str) -> Unit:
    """The unit at `to_level` above the nomination's unit, or else the campaign's issuing unit."""
    ancestors = [int(part) for part in nomination.unit.path.strip("/").split("/") if part]
    found = session.scalars(
        select(Unit)
        .where(Unit.id.in_(ancestors), Unit.level == to_level, Unit.kind == "administrative")
        .order_by(func.length(Unit.path).desc())
    ).first()
    return found or session.get_one(Unit, nomination.campaign.issuing_unit_id)


def _mark(session: Session, waiting: Waiting, now: datetime) -> bool:
    nomination = session.scalars(
        select(Nomination)
        .where(Nomination.id == waiting.nomination_id)
        .options(joinedload(Nomination.unit), joinedload(Nomination.campaign))
    ).one()
    if nomination.awaiting != waiting.level:
        return False  # reviewed meanwhile
    campaign: Campaign = nomination.campaign
    chain = nomination.chain.split(",")
    index = chain.index(waiting.level) if waiting.level in chain else len(chain) - 1
    if index + 1 < len(chain):
        to_level = chain[index + 1]
        to_unit = _escalation_unit(session, nomination, to_level)
    else:  # the top of the chain answers to the campaign's issuing unit
        to_level = waiting.level
        to_unit = session.get_one(Unit, campaign.issuing_unit_id)
    due = waiting.due_at.isoformat()
    audit.record(
        session,
        nomination,
        f"nomination:{nomination.id}",
        at=now,
        actor=audit.SYSTEM,
        trigger="marked_overdue",
        from_state=nomination.state,
        to_state=nomination.state,
        payload={"level": waiting.level, "due": due, "visit": waiting.visit_seq},
        definition_version=nomination.definition_version,
    )
    session.add(
        Escalation(
            nomination_id=nomination.id,
            campaign_id=campaign.id,
            level=waiting.level,
            to_level=to_level,
            to_unit_id=to_unit.id,
            visit_seq=waiting.visit_seq,
            reached_at=waiting.reached_at,
            due_at=waiting.due_at,
            raised_at=now,
        )
    )
    payload = notify.nomination_payload(nomination, campaign, level=waiting.level, due=due)
    subject = f"{nomination.id}:{waiting.level}:{waiting.visit_seq}"
    enqueue(
        session,
        key=f"overdue:{subject}",
        event="overdue",
        template="overdue",
        recipient_id=nomination.proposer_id,
        payload=payload,
        now=now,
        nomination_id=nomination.id,
        campaign_id=campaign.id,
    )
    approvers = session.scalars(
        select(RoleGrant.person_id)
        .where(RoleGrant.role == "approver", RoleGrant.unit_id == to_unit.id)
        .order_by(RoleGrant.person_id)
    ).all()
    for person_id in approvers:
        enqueue(
            session,
            key=f"escalated:{subject}:{person_id}",
            event="escalated",
            template="escalated",
            recipient_id=person_id,
            payload={**payload, "to_level": to_level},
            now=now,
            nomination_id=nomination.id,
            campaign_id=campaign.id,
        )
    return True


def mark_overdue(engine: Engine, now: datetime, fencing: int | None = None) -> int:
    """Mark and escalate every review whose time limit ended by `now`; the number marked."""
    with Session(engine.execution_options(**READ_ONLY)) as session:
        due = [w for w in waiting_reviews(session) if w.due_at <= now]
        escalated = set(session.execute(select(Escalation.nomination_id, Escalation.visit_seq)))
    marked = 0
    for waiting in due:
        if (waiting.nomination_id, waiting.visit_seq) in escalated:
            continue
        try:
            with Session(engine, autoflush=False) as session, session.begin():
                check_fencing(session.connection(), fencing)
                done = _mark(session, waiting, now)
        except (StaleDataError, IntegrityError):
            log.info("overdue.skipped", nomination=waiting.nomination_id, why="changed meanwhile")
            continue
        marked += done
    return marked
