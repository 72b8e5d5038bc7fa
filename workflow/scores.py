"""Scores against a campaign's criteria, and the ranking they give.

Who scores: an approver at a level of the nomination's chain whose unit covers the nomination's
unit, while the nomination awaits that level's review or has just passed it (its state is that
level's `*_reviewed`). The proposer and the nominee never score. A criterion holds one current
score per nomination — a new score replaces it — and every scoring is an audited annotation
"scored" (from- and to-state both the current state), so the history keeps each one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import review_state
from workflow import rounds
from workflow.campaigns import campaign_by_code
from workflow.directory import Grant, Principal, covers
from workflow.errors import Forbidden, InvalidInput, Refused
from workflow.nominations import chain_of
from workflow.ranking import competition_ranks
from workflow.round_rules import rules_of
from workflow.round_tables import NominationTerms, Score
from workflow.tables import Nomination, Unit

__all__ = ["RankRow", "ranking", "score"]


def _scoring_grant(principal: Principal, nomination: Nomination) -> Grant:
    chain = chain_of(nomination)
    for grant in principal.holding("approver"):
        level = grant.unit.level
        if level not in chain or not covers(grant.unit, nomination.unit):
            continue
        if nomination.awaiting == level or nomination.state == review_state(level):
            return grant
    waits = f"awaits '{nomination.awaiting}'" if nomination.awaiting else "awaits no review"
    raise Forbidden(
        "level",
        f"{principal.username} cannot score nomination {nomination.id}: it is "
        f"'{nomination.state}' and {waits}; only an approver of the level it awaits or has just "
        f"passed, over {nomination.unit.name}, scores it",
    )


def score(
    session: Session,
    principal: Principal,
    nomination: Nomination,
    now: datetime,
    *,
    criterion: str,
    points: int,
    comment: str | None = None,
) -> Score:
    rules = rules_of(session, nomination.campaign)
    found = rules.criterion(criterion)
    if found is None:
        known = ", ".join(c["code"] for c in rules.criteria) or "none"
        raise Refused(
            "criterion",
            f"campaign {nomination.campaign.code} has no criterion '{criterion}'; "
            f"its criteria: {known}",
        )
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise InvalidInput(f"points must be a whole number of at least 0, not {points!r}")
    if points > found["max_points"]:
        raise Refused(
            "max_points",
            f"{points} points is above the maximum of {found['max_points']} for criterion "
            f"'{criterion}' ({found['name']})",
        )
    grant = _scoring_grant(principal, nomination)
    rounds.check_not_involved(principal, nomination, "score")
    current = session.scalars(
        select(Score).where(Score.nomination_id == nomination.id, Score.criterion == criterion)
    ).one_or_none()
    previous = current.points if current is not None else None
    if current is None:
        current = Score(nomination_id=nomination.id, criterion=criterion)
        session.add(current)
    current.points, current.level = points, grant.unit.level
    current.scorer_id, current.scored_at = principal.id, now
    rounds.annotate(
        session,
        nomination,
        rounds.actor(principal, grant),
        now,
        "scored",
        {
            "criterion": criterion,
            "points": points,
            "max_points": found["max_points"],
            "previous": previous,
            "level": grant.unit.level,
        },
        comment,
    )
    return current


@dataclass(frozen=True)
class RankRow:
    rank: int
    nomination: int
    round: str
    nominee_kind: str
    nominee_name: str
    unit: str
    state: str
    total: int
    points: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def ranking(
    session: Session, campaign_code: str, round_name: str | None, kind: str | None
) -> list[RankRow]:
    """Every nomination still in the round, by round and kind, ranked by total (ties shared)."""
    campaign = campaign_by_code(session, campaign_code)
    query = (
        select(Nomination, NominationTerms.round, Unit.code)
        .join(NominationTerms, NominationTerms.nomination_id == Nomination.id)
        .join(Unit, Unit.id == Nomination.unit_id)
        .where(Nomination.campaign_id == campaign.id)
        .where(Nomination.state.not_in([str(s) for s in rounds.OUT_OF_ROUND]))
        .order_by(Nomination.id)
    )
    if round_name is not None:
        query = query.where(NominationTerms.round == round_name)
    if kind is not None:
        query = query.where(Nomination.nominee_kind == kind)
    rows = session.execute(query).all()
    points: dict[int, dict[str, int]] = defaultdict(dict)
    ids = [nomination.id for nomination, _, _ in rows]
    for row in session.scalars(select(Score).where(Score.nomination_id.in_(ids))):
        points[row.nomination_id][row.criterion] = row.points
    groups: dict[tuple[str, str], list[tuple[Nomination, str]]] = defaultdict(list)
    for nomination, round_of, unit in rows:
        groups[(round_of, nomination.nominee_kind)].append((nomination, unit))
    ranked: list[RankRow] = []
    for (round_of, nominee_kind), members in sorted(groups.items()):
        by_id = {nomination.id: (nomination, unit) for nomination, unit in members}
        totals = [(n.id, sum(points[n.id].values())) for n, _ in members]
        for rank, nomination_id, total in competition_ranks(totals):
            nomination, unit = by_id[nomination_id]
            ranked.append(
                RankRow(
                    rank=rank,
                    nomination=nomination_id,
                    round=round_of,
                    nominee_kind=nominee_kind,
                    nominee_name=nomination.nominee_name,
                    unit=unit,
                    state=nomination.state,
                    total=total,
                    points=dict(sorted(points[nomination_id].items())),
                )
            )
    return ranked
