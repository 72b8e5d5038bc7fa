"""The award authority's ready list: the nominations that passed the last level of their chain
and that this person decides, grouped by campaign, with each round's quota and what it spent."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from states import REVIEW_STATES
from workflow import queries, rounds
from workflow.decisions import awarded_count
from workflow.directory import Principal
from workflow.errors import Forbidden, InvalidTransition
from workflow.round_rules import rules_of
from workflow.tables import Campaign, Nomination

__all__ = ["ready_for"]


def ready_for(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Per campaign: the ready nominations `principal` may award, and each round's quota."""
    if not principal.holding("approver"):
        return []
    candidates = session.scalars(
        select(Nomination)
        .where(
            Nomination.state.in_([str(s) for s in REVIEW_STATES.values()]),
            Nomination.awaiting.is_(None),
        )
        .options(joinedload(Nomination.unit), joinedload(Nomination.campaign))
        .order_by(Nomination.id)
    ).all()
    by_campaign: dict[int, list[Nomination]] = defaultdict(list)
    for nomination in candidates:
        try:
            rounds.award_grant(principal, nomination)
            rounds.check_ready(nomination)
        except (Forbidden, InvalidTransition):
            continue
        by_campaign[nomination.campaign_id].append(nomination)
    found = []
    for campaign_id, members in by_campaign.items():
        campaign = session.get_one(Campaign, campaign_id)
        quotas = dict(rules_of(session, campaign).quotas or {})
        ready: Counter[tuple[str, str]] = Counter()
        for nomination in members:
            ready[(rounds.terms_of(session, nomination).round, nomination.nominee_kind)] += 1
        found.append(
            {
                "campaign": campaign.code,
                "name": campaign.name,
                "nominations": [queries.show(session, n.id) for n in members],
                "rounds": [
                    {
                        "round": round_name,
                        "kind": kind,
                        "ready": count,
                        "quota": quotas.get(kind),
                        "awarded": awarded_count(session, campaign, round_name, kind),
                    }
                    for (round_name, kind), count in sorted(ready.items())
                ],
            }
        )
    return sorted(found, key=lambda item: item["campaign"])
