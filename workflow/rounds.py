"""What the award-round commands share: a nomination's terms, its award authority, annotations.

The award authority of a nomination is the chairman (an approver) of the unit at the top of its
chain: the campaign's issuing unit when the chain reaches the campaign's award level, otherwise
the unit at the chain's top level above the nominee's unit (a district that grants Giấy khen in
a provincial campaign).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from states import State, review_state
from workflow import audit
from workflow.directory import Grant, Principal, covers
from workflow.errors import Forbidden, InvalidTransition
from workflow.nominations import chain_of
from workflow.round_tables import NominationTerms
from workflow.tables import Nomination
from workflow.timeutil import local_date

__all__ = [
    "OUT_OF_ROUND",
    "actor",
    "annotate",
    "award_grant",
    "check_not_involved",
    "check_ready",
    "terms_of",
]


def terms_of(session: Session, nomination: Nomination) -> NominationTerms:
    terms = session.get(NominationTerms, nomination.id)
    if terms is None:  # registered before award rounds: its round is its registration year
        year = str(local_date(nomination.created_at).year)
        return NominationTerms(nomination_id=nomination.id, round=year, sought_form=None)
    return terms


def actor(principal: Principal, grant: Grant) -> audit.Actor:
    return audit.Actor(principal.id, principal.person.full_name, grant.role, grant.unit.code)


def award_grant(principal: Principal, nomination: Nomination, command: str = "awards") -> Grant:
    """The approver role with which `principal` is the award authority of `nomination`."""
    campaign = nomination.campaign
    top = chain_of(nomination)[-1]
    for grant in principal.holding("approver"):
        if top == campaign.award_level:
            if grant.unit.id == campaign.issuing_unit_id:
                return grant
        elif grant.unit.level == top and covers(grant.unit, nomination.unit):
            return grant
    raise Forbidden(
        "role",
        f"{principal.username} is not the award authority of nomination {nomination.id} "
        f"(the chairman at level '{top}' over {nomination.unit.name}, in campaign "
        f"{campaign.code}); only its chairman {command}",
    )


def check_not_involved(principal: Principal, nomination: Nomination, command: str) -> None:
    if principal.id in (nomination.proposer_id, nomination.nominee_person_id):
        raise Forbidden(
            "separation_of_duties",
            f"{principal.username} proposed or is the nominee of nomination {nomination.id} "
            f"and cannot {command} it",
        )


def check_ready(nomination: Nomination, command: str = "award") -> None:
    """The nomination passed the last level of its chain, or InvalidTransition."""
    needed = review_state(chain_of(nomination)[-1])
    if nomination.state != needed:
        raise InvalidTransition(
            f"nomination {nomination.id} is '{nomination.state}'; '{command}' needs '{needed}'"
        )


def annotate(
    session: Session,
    nomination: Nomination,
    who: audit.Actor,
    now: datetime,
    trigger: str,
    payload: dict[str, Any],
    reason: str | None = None,
) -> None:
    """An audit entry that changes no state: from- and to-state are both the current state."""
    audit.record(
        session,
        nomination,
        f"nomination:{nomination.id}",
        at=now,
        actor=who,
        trigger=trigger,
        from_state=nomination.state,
        to_state=nomination.state,
        reason=reason,
        payload=payload,
        definition_version=nomination.definition_version,
    )


#: States a ranking leaves out: the nomination is out of the round.
OUT_OF_ROUND = frozenset({State.REJECTED, State.WITHDRAWN, State.EXPIRED, State.REVOKED})
