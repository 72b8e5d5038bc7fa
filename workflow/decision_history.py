"""From a decision back to each dossier: its scores, sign-offs, votes, history and people."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import councils, nominations, queries
from workflow.errors import NotFound
from workflow.round_tables import AwardDecision, DecisionItem, Score
from workflow.tables import AuditEntry, Campaign, Person, Unit
from workflow.views import jsonable

__all__ = ["show_decision"]


def _people(session: Session, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}


def _votes(session: Session, nomination_id: int) -> list[dict[str, Any]]:
    """Every council vote cast on the nomination, level by level, in the order cast."""
    votes: list[dict[str, Any]] = councils.status(
        session, nominations.load(session, nomination_id)
    )["votes"]
    return votes


def _dossier(session: Session, nomination_id: int) -> dict[str, Any]:
    view = queries.show(session, nomination_id)
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.stream == f"nomination:{nomination_id}")
        .order_by(AuditEntry.seq)
    ).all()
    scores = session.scalars(
        select(Score).where(Score.nomination_id == nomination_id).order_by(Score.criterion)
    ).all()
    people = _people(session, {s.scorer_id for s in scores})
    signoffs = [
        {
            "level": json.loads(e.payload).get("level"),
            "person": e.actor_name,
            "role": e.actor_role,
            "unit": e.actor_unit,
            "at": e.at,
            "comment": e.reason,
        }
        for e in entries
        if e.trigger == "approve"
    ]
    return {
        "nomination": view.to_dict(),
        "scores": [
            {
                "criterion": s.criterion,
                "points": s.points,
                "level": s.level,
                "scorer": people[s.scorer_id].username,
                "scorer_name": people[s.scorer_id].full_name,
                "at": s.scored_at,
            }
            for s in scores
        ],
        "signoffs": signoffs,
        "votes": _votes(session, nomination_id),
        "people": sorted({e.actor_name for e in entries} | {p.full_name for p in people.values()}),
        "history": [
            {
                "seq": e.seq,
                "at": e.at,
                "trigger": e.trigger,
                "from": e.from_state,
                "to": e.to_state,
                "actor": e.actor_name,
                "role": e.actor_role,
                "unit": e.actor_unit,
                "reason": e.reason,
            }
            for e in entries
        ],
    }


def show_decision(session: Session, number: str, unit: str | None = None) -> list[dict[str, Any]]:
    """Every decision numbered `number` (of `unit`, when given), each with its dossiers."""
    query = (
        select(AwardDecision, Unit, Person, Campaign.code)
        .join(Unit, Unit.id == AwardDecision.issuing_unit_id)
        .join(Person, Person.id == AwardDecision.signer_id)
        .join(Campaign, Campaign.id == AwardDecision.campaign_id)
        .where(AwardDecision.number == number.strip())
        .order_by(AwardDecision.id)
    )
    if unit is not None:
        query = query.where(Unit.code == unit)
    found = []
    for decision, issuer, signer, campaign in session.execute(query):
        items = session.scalars(
            select(DecisionItem.nomination_id)
            .where(DecisionItem.decision_id == decision.id)
            .order_by(DecisionItem.id)
        ).all()
        found.append(
            jsonable(
                {
                    "number": decision.number,
                    "kind": decision.kind,
                    "date": decision.decided_on,
                    "form": decision.form,
                    "issuing_unit": issuer.code,
                    "issuing_unit_name": issuer.name,
                    "signer": signer.username,
                    "signer_name": signer.full_name,
                    "campaign": campaign,
                    "round": decision.round,
                    "reason": decision.reason,
                    "dossiers": [_dossier(session, nomination_id) for nomination_id in items],
                }
            )
        )
    if not found:
        raise NotFound(f"no decision numbered '{number}'")
    return found
