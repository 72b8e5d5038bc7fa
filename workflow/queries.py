"""Read-only queries: a nomination, lists, an approver's inbox, a history."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, aliased

from workflow.campaigns import campaign_by_code
from workflow.directory import Principal, unit_by_code
from workflow.errors import InvalidInput, NotFound
from workflow.tables import AuditEntry, Campaign, Nomination, Person, Unit
from workflow.views import EntryView, NominationView

__all__ = ["MAX_PAGE", "history", "inbox", "list_nominations", "nomination_view", "show"]

MAX_PAGE = 500


def _query() -> Any:  # Select of (Nomination, campaign code, Unit, proposer username)
    proposer = aliased(Person)
    return (
        select(Nomination, Campaign.code, Unit, proposer.username)
        .join(Campaign, Nomination.campaign_id == Campaign.id)
        .join(Unit, Nomination.unit_id == Unit.id)
        .join(proposer, Nomination.proposer_id == proposer.id)
    )


def _view(row: Any) -> NominationView:
    nomination, campaign, unit, proposer = row
    return NominationView(
        id=nomination.id,
        campaign=campaign,
        unit=unit.code,
        unit_name=unit.name,
        proposer=proposer,
        nominee_kind=nomination.nominee_kind,
        nominee_name=nomination.nominee_name,
        title=nomination.title,
        area=nomination.area,
        state=nomination.state,
        awaiting=nomination.awaiting,
        chain=tuple(nomination.chain.split(",")),
        returns=nomination.returns,
        award_number=nomination.award_number,
        award_date=nomination.award_date,
        award_form=nomination.award_form,
        updated_at=nomination.updated_at,
        version=nomination.version,
    )


def nomination_view(nomination: Nomination, proposer: str) -> NominationView:
    """The view of a nomination loaded with its unit and campaign, as a command leaves it."""
    return _view((nomination, nomination.campaign.code, nomination.unit, proposer))


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit {limit} must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise InvalidInput(f"offset {offset} must not be negative")


#: One nomination's row for `show`, built once (so each call reuses its compiled form).
_SHOW = _query().where(Nomination.id == bindparam("nomination_id"))


def show(session: Session, nomination_id: int) -> NominationView:
    row = session.execute(_SHOW, {"nomination_id": nomination_id}).one_or_none()
    if row is None:
        raise NotFound(f"no nomination with id {nomination_id}")
    return _view(row)


def list_nominations(
    session: Session,
    *,
    campaign: str | None = None,
    state: str | None = None,
    unit: str | None = None,
    limit: int = 100,
    offset: int = 0,
    where: Any = None,
) -> list[NominationView]:
    """A page of nominations by id; `where` narrows them further (a reader's reach)."""
    _page(limit, offset)
    query = _query() if where is None else _query().where(where)
    if campaign is not None:
        campaign_by_code(session, campaign)  # a mistyped code is not found, not an empty list
        query = query.where(Campaign.code == campaign)
    if state is not None:
        query = query.where(Nomination.state == state)
    if unit is not None:
        scope = unit_by_code(session, unit)
        query = query.where(Unit.path.startswith(scope.path, autoescape=True))
    rows = session.execute(query.order_by(Nomination.id).limit(limit).offset(offset))
    return [_view(row) for row in rows]


def inbox(
    session: Session, principal: Principal, limit: int = 100, offset: int = 0
) -> list[NominationView]:
    """Nominations awaiting review at a level where `principal` is approver, over their units."""
    _page(limit, offset)
    grants = principal.holding("approver")
    if not grants:
        return []
    query = _query().where(
        or_(
            *(
                (Nomination.awaiting == g.unit.level)
                & Unit.path.startswith(g.unit.path, autoescape=True)
                for g in grants
            )
        )
    )
    rows = session.execute(
        query.order_by(Nomination.updated_at, Nomination.id).limit(limit).offset(offset)
    )
    return [_view(row) for row in rows]


def history(session: Session, stream: str) -> list[EntryView]:
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.stream == stream).order_by(AuditEntry.seq)
    ).all()
    return [
        EntryView(
            seq=e.seq,
            at=e.at,
            actor=e.actor_name,
            role=e.actor_role,
            unit=e.actor_unit,
            trigger=e.trigger,
            from_state=e.from_state,
            to_state=e.to_state,
            reason=e.reason,
            payload=json.loads(e.payload),
            hash=e.hash,
        )
        for e in entries
    ]
