"""Who hears what when a nomination changes state (DESIGN §7).

| event | when | who |
| --- | --- | --- |
| awaiting_review | report, resubmit, an approve to a next level | its approvers or council |
| returned | return | the proposer |
| rejected | reject | the proposer |
| awarded | award | the proposer |
| expired | expire (the report deadline passed) | the proposer |

A level's approvers: the people holding the approver role over the unit at the level the nomination
now awaits that covers its unit — or, where the campaign set a council at that level, its members
(the actor left out either way).
The deadline sweep writes "overdue", "escalated" and "reminder" itself. Called once, from
`nominations.change()`, so every transition notifies in its own transaction: a rolled-back
command leaves no message. Messages are written without a channel and fanned out to the
recipient's channels by the dispatcher (see `workflow.outbox_store`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, select
from sqlalchemy.orm import Session, aliased

from workflow import audit, councils, outbox
from workflow.db import json_rows, json_value
from workflow.tables import Campaign, Nomination, RoleGrant, Unit

__all__ = [
    "approvers_at",
    "approvers_column",
    "nomination_payload",
    "note_approvers",
    "on_transition",
]

#: State reached → event told to the proposer.
_TO_PROPOSER = {
    "returned": "returned",
    "rejected": "rejected",
    "awarded": "awarded",
    "expired": "expired",
}
#: Triggers after which a nomination waiting at a new level is announced to that level.
_REACHES_LEVEL = frozenset({"report", "approve", "resubmit"})


#: The approvers at one level over a unit's path, built once (each call reuses its compiled form).
_APPROVERS_AT = (
    select(RoleGrant.person_id)
    .join(Unit, RoleGrant.unit_id == Unit.id)
    .where(
        RoleGrant.role == "approver",
        Unit.level == bindparam("level"),
        bindparam("path", type_=Unit.path.type).startswith(Unit.path),
    )
    .order_by(RoleGrant.person_id)
    .distinct()
)


_KNOWN = "thidua.approvers"


def approvers_at(session: Session, unit: Unit, level: str) -> list[int]:
    """The people holding the approver role over a unit at `level` that covers `unit` (read
    with the nomination when a command read it by `nomination_store.load_for`)."""
    known: dict[str, list[int]] | None = session.info.get(_KNOWN, {}).get(unit.id)
    if known is not None:
        return known.get(level, [])
    return list(session.scalars(_APPROVERS_AT, {"level": level, "path": unit.path}))


def approvers_column(dialect: str) -> ColumnElement[Any]:
    """Every (level, person) of an approver over the unit of the statement's nomination (its
    `units` row), as one JSON array: a column read with the nomination, for `note_approvers`."""
    scope = aliased(Unit, name="approver_unit")
    nominated: Table = Unit.__table__  # type: ignore[assignment]
    return (
        select(json_rows(dialect, scope.level, RoleGrant.person_id))
        .select_from(RoleGrant)
        .join(scope, RoleGrant.unit_id == scope.id)
        .where(RoleGrant.role == "approver", nominated.c.path.startswith(scope.path))
        .scalar_subquery()
        .label("approvers")
    )


def note_approvers(session: Session, unit_id: int, value: Any) -> None:
    """Keep an `approvers_column` value for `approvers_at` in this transaction."""
    pairs = json_value(value) or []
    levels: dict[str, list[int]] = {}
    for level, person_id in pairs:
        levels.setdefault(level, []).append(person_id)
    known = session.info.setdefault(_KNOWN, {})
    known[unit_id] = {level: sorted(set(people)) for level, people in levels.items()}


def nomination_payload(nomination: Nomination, campaign: Campaign, **extra: Any) -> dict[str, Any]:
    """The payload every nomination event carries (the contract the templates read)."""
    payload: dict[str, Any] = {
        "nomination_id": nomination.id,
        "title": nomination.title,
        "nominee_name": nomination.nominee_name,
        "campaign_code": campaign.code,
        "campaign_name": campaign.name,
        "state": nomination.state,
    }
    payload.update({key: value for key, value in extra.items() if value is not None})
    return payload


def on_transition(
    session: Session,
    nomination: Nomination,
    trigger: str,
    from_state: str | None,
    to_state: str,
    actor: audit.Actor,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Write the messages this transition causes into the outbox (same transaction)."""
    if from_state == to_state:
        return
    event: str | None = None
    recipients: list[int] = []
    level: str | None = None
    if to_state in _TO_PROPOSER:
        event = _TO_PROPOSER[to_state]
        recipients = [nomination.proposer_id]
        level = nomination.returned_level if event == "returned" else None
    elif trigger in _REACHES_LEVEL and nomination.awaiting:
        event = "awaiting_review"
        level = nomination.awaiting
        council = councils.council_at(session, nomination.campaign_id, level)
        if council is not None:
            deciders = sorted(member.person_id for member in council.members)
        else:
            unit = session.get(Unit, nomination.unit_id)
            deciders = approvers_at(session, unit, level) if unit is not None else []
        recipients = [p for p in deciders if p != actor.id]
    if event is None or not recipients:
        return
    campaign = session.get(Campaign, nomination.campaign_id)
    if campaign is None:
        return
    extra: dict[str, Any] = {"level": level, "reason": reason}
    if event == "awarded":
        extra.update(
            award_form=nomination.award_form,
            award_number=nomination.award_number,
            award_date=f"{nomination.award_date:%d/%m/%Y}" if nomination.award_date else None,
        )
    payload = nomination_payload(nomination, campaign, **extra)
    for person_id in recipients:
        outbox.enqueue(
            session,
            key=f"nomination:{nomination.id}:{nomination.version}:{event}:{person_id}",
            event=event,
            template=event,
            recipient_id=person_id,
            payload=payload,
            now=now,
            nomination_id=nomination.id,
            campaign_id=campaign.id,
            fresh=True,
        )
