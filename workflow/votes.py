"""A council member's vote on a nomination awaiting the council's level.

Each vote is an audited annotation ("voted", from == to state). The vote that reaches the
threshold also fires `approve` to the level's reviewed state, and the vote after which the
threshold can no longer be reached fires `reject`; both through `nominations.change()`, with the
tally in the payload and the member who cast it as the actor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import states
from states import RuleViolation, Trigger
from workflow import audit, councils, delegations, nominations
from workflow.directory import Principal
from workflow.errors import Forbidden, InvalidTransition, Refused
from workflow.tables import Council, CouncilVote, Nomination
from workflow.timeutil import format_local

__all__ = ["ROLE", "vote"]

#: The audit role of a council member's vote.
ROLE = "council"


def _council(session: Session, nomination: Nomination) -> tuple[str, Council]:
    level = nomination.awaiting
    if level is None:
        raise InvalidTransition(
            f"nomination {nomination.id} is '{nomination.state}' and awaits no review; "
            "a council votes only on a nomination awaiting its level"
        )
    council = councils.council_at(session, nomination.campaign_id, level)
    if council is None:
        raise Refused(
            "council",
            f"level '{level}' of campaign {nomination.campaign.code} has no council; "
            f"nomination {nomination.id} is signed off there by one approver (approve)",
        )
    return level, council


def vote(
    session: Session,
    principal: Principal,
    nomination: Nomination,
    now: datetime,
    *,
    approve: bool,
    comment: str | None,
    on_behalf_of: str | None = None,
) -> None:
    level, council = _council(session, nomination)
    members = {m.person_id for m in council.members}

    def member(person: Principal) -> str:
        if person.id not in members:
            raise Forbidden(
                "council_member",
                f"{person.username} is not a member of the council of campaign "
                f"{nomination.campaign.code} at level '{level}'",
            )
        return ROLE

    acting = delegations.resolve(session, principal, nomination.unit, now, member, on_behalf_of)
    signoffs: dict[str, list[int]] = nomination.signoffs or {}
    for person in acting.people:
        try:
            states.check_separation_of_duties(
                person.id,
                level,
                proposer=nomination.proposer_id,
                nominee=nomination.nominee_person_id,
                signoffs=signoffs,
            )
        except RuleViolation as exc:
            raise Forbidden(
                exc.rule, f"{person.username} on nomination {nomination.id}: {exc}"
            ) from exc
    visit = councils.current_visit(session, nomination)
    cast = list(councils.votes_of(session, nomination.id, level, visit))
    for earlier in cast:
        if earlier.member_id == acting.principal.id or earlier.cast_by_id == acting.by.id:
            who = acting.principal.username
            raise Refused(
                "vote_once",
                f"a vote for {who} or by {acting.by.username} on nomination {nomination.id} "
                f"at level '{level}' was cast already at {format_local(earlier.cast_at)}; "
                "each member votes once",
            )
    ballot = CouncilVote(
        nomination_id=nomination.id,
        level=level,
        visit=visit,
        member_id=acting.principal.id,
        cast_by_id=acting.by.id,
        delegation_id=acting.delegation.id if acting.delegation else None,
        approve=approve,
        comment=comment,
        cast_at=now,
    )
    session.add(ballot)
    cast.append(ballot)
    count = councils.tally(council, cast)
    choice = "approve" if approve else "reject"
    actor = acting.actor(ROLE, None)
    audit.record(
        session,
        nomination,
        f"nomination:{nomination.id}",
        at=now,
        actor=actor,
        trigger="voted",
        from_state=nomination.state,
        to_state=nomination.state,
        reason=comment,
        payload={
            "level": level,
            "vote": choice,
            "member": acting.principal.username,
            "tally": count.to_dict(),
            **acting.payload(),
        },
        definition_version=nomination.definition_version,
    )
    if not (count.reached or count.unreachable):
        return
    decision = {
        "level": level,
        "council": {"threshold": council.threshold, "tally": count.to_dict()},
        **acting.payload(),
    }
    if count.reached:
        voters = [v.member_id for v in cast] + [v.cast_by_id for v in cast]
        nomination.signoffs = {
            **signoffs,
            level: list(dict.fromkeys([*signoffs.get(level, []), *voters])),
        }
        nominations.change(session, nomination, Trigger.APPROVE, actor, now, None, decision)
    else:
        reason = (
            f"the council cannot reach {count.required} approvals of {count.members}: "
            f"{count.rejections} rejected"
        )
        nominations.change(session, nomination, Trigger.REJECT, actor, now, reason, decision)
