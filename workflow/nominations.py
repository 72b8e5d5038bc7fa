"""The nomination commands' rules: who may fire which trigger, when, and what it records.

Each function runs inside the caller's transaction: it loads, checks, changes the nomination and
appends its audit entry; the service commits or rolls back around it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

import states
from states import DEFINITION_VERSION, Dossier, RuleViolation, State, Trigger
from workflow import audit, councils, delegations, notify, round_rules
from workflow.campaigns import AREAS, NOMINEE_KINDS
from workflow.directory import Grant, Principal, covers, load_principal, unit_by_code
from workflow.errors import (
    DeadlinePassed,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    Refused,
)
from workflow.nomination_store import add, load_for, load_with_proposer, save
from workflow.round_tables import NominationTerms
from workflow.tables import Campaign, Nomination
from workflow.text import clean_text
from workflow.timeutil import format_local, local_date

__all__ = [
    "DECISION_NUMBER",
    "change",
    "load",
    "load_for",
    "load_with_proposer",
    "officer_grant",
    "officer_step",
    "register",
    "review",
    "review_grant",
]

#: An award decision's number, as "163/QĐ-UBND".
DECISION_NUMBER = re.compile(r"^\d{1,6}/[0-9A-Za-zĐđ]+(?:-[0-9A-Za-zĐđ]+)*$")


#: A new nomination's round and sought form: one INSERT at once, not a second flush at commit.
_INSERT_TERMS = insert(NominationTerms)


def load(session: Session, nomination_id: int) -> Nomination:
    return load_with_proposer(session, nomination_id)[0]


def chain_of(nomination: Nomination) -> tuple[str, ...]:
    return tuple(nomination.chain.split(","))


def officer_grant(principal: Principal, nomination: Nomination) -> Grant:
    """An officer's role over the nomination's unit, or Forbidden naming both."""
    officers = principal.holding("officer")
    if not officers:
        raise Forbidden("role", f"{principal.username} holds no officer role")
    for grant in officers:
        if covers(grant.unit, nomination.unit):
            return grant
    raise Forbidden(
        "unit_scope",
        f"{principal.username} is officer of {principal.scopes('officer')}, which does not "
        f"cover {nomination.unit.name} ({nomination.unit.code}) of nomination {nomination.id}",
    )


def review_grant(principal: Principal, nomination: Nomination, trigger: str) -> Grant:
    """The approver role with which `principal` reviews the nomination at the level it awaits.

    No approver role, or none over the nomination's unit at a level of its chain, is Forbidden;
    a nomination that does not await one of the approver's levels now (it has not reached it,
    or another approver moved it on first) is a wrong state: InvalidTransition.
    """
    approvers = principal.holding("approver")
    if not approvers:
        raise Forbidden(
            "role",
            f"{principal.username} holds no approver role; '{trigger}' needs one",
        )
    chain = chain_of(nomination)
    entitled = [g for g in approvers if covers(g.unit, nomination.unit) and g.unit.level in chain]
    if not entitled:
        raise Forbidden(
            "unit_scope",
            f"{principal.username} is approver of {principal.scopes('approver')}, which does not "
            f"cover {nomination.unit.name} ({nomination.unit.code}) at a level of its chain "
            f"{' → '.join(chain)}",
        )
    for grant in entitled:
        if grant.unit.level == nomination.awaiting:
            return grant
    levels = ", ".join(sorted({g.unit.level for g in entitled}))
    waits = (
        f"awaits review at '{nomination.awaiting}'" if nomination.awaiting else "awaits no review"
    )
    raise InvalidTransition(
        f"nomination {nomination.id} is '{nomination.state}' and {waits}; "
        f"{principal.username} reviews it at '{levels}'"
    )


def _actor(principal: Principal, grant: Grant) -> audit.Actor:
    return audit.Actor(principal.id, principal.person.full_name, grant.role, grant.unit.code)


def change(
    session: Session,
    nomination: Nomination,
    trigger: str,
    actor: audit.Actor,
    now: datetime,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Fire `trigger` through the state model and append its audit entry."""
    dossier = Dossier(
        nomination.state,
        chain_of(nomination),
        nomination.returned_level,
        nomination.returns,
    )
    from_state = nomination.state
    try:
        states.fire(dossier, trigger)
    except states.InvalidTransition as exc:
        raise InvalidTransition(f"nomination {nomination.id} {exc}") from exc
    nomination.state = dossier.state
    nomination.returned_level = dossier.returned_level
    nomination.returns = dossier.returns
    nomination.awaiting = dossier.awaiting
    nomination.updated_at = now
    audit.record(
        session,
        nomination,
        f"nomination:{nomination.id}",
        at=now,
        actor=actor,
        trigger=trigger,
        from_state=from_state,
        to_state=dossier.state,
        reason=reason,
        payload=payload,
        definition_version=nomination.definition_version,
    )
    save(session, nomination)
    notify.on_transition(
        session, nomination, trigger, from_state, dossier.state, actor, now, reason
    )


def register(
    session: Session,
    principal: Principal,
    now: datetime,
    *,
    campaign: Campaign,
    unit_code: str,
    nominee_kind: str,
    nominee_name: str,
    title: str,
    area: str,
    nominee_username: str | None = None,
    form: str | None = None,
) -> Nomination:
    unit = unit_by_code(session, unit_code)
    form = round_rules.check_form(form) if form is not None else None
    nominee_name = clean_text(nominee_name, "nominee name")
    title = clean_text(title, "initiative title", "title")
    if nominee_kind not in NOMINEE_KINDS:
        raise InvalidInput(
            f"nominee kind '{nominee_kind}' is not one of {', '.join(NOMINEE_KINDS)}"
        )
    if area not in AREAS:
        raise InvalidInput(f"area '{area}' is not one of the six reform areas: {', '.join(AREAS)}")
    nominee = load_principal(session, nominee_username) if nominee_username else None
    officers = principal.holding("officer")
    if not officers:
        raise Forbidden("role", f"{principal.username} holds no officer role; 'register' needs one")
    grant = next((g for g in officers if covers(g.unit, unit)), None)
    if grant is None:
        raise Forbidden(
            "unit_scope",
            f"{principal.username} is officer of {principal.scopes('officer')}, which does not "
            f"cover {unit.name} ({unit.code})",
        )
    if not covers(campaign.issuing_unit, unit):
        raise Refused(
            "campaign_scope",
            f"{unit.name} ({unit.code}) is not within the issuing unit of campaign {campaign.code}",
        )
    if nominee_kind not in campaign.nominee_kinds:
        raise Refused(
            "nominee_kind",
            f"campaign {campaign.code} takes {', '.join(campaign.nominee_kinds)}, "
            f"not '{nominee_kind}'",
        )
    if area not in campaign.areas:
        raise Refused("area", f"campaign {campaign.code} does not cover area '{area}'")
    if now >= campaign.registration_deadline:
        raise DeadlinePassed(
            "registration_deadline",
            f"registration for campaign {campaign.code} closed at "
            f"{format_local(campaign.registration_deadline)} (Vietnam time); "
            f"it is now {format_local(now, seconds=True)}",
        )
    award_level = round_rules.award_level_for(campaign, form)
    try:
        chain = states.chain_for(unit.level, award_level, tuple(campaign.tiers.split(",")))
    except ValueError as exc:
        raise Refused("chain", f"{unit.name} ({unit.code}) cannot be nominated: {exc}") from exc
    nomination = Nomination(
        campaign_id=campaign.id,
        unit_id=unit.id,
        proposer_id=principal.id,
        nominee_kind=nominee_kind,
        nominee_name=nominee_name,
        nominee_person_id=nominee.id if nominee else None,
        title=title,
        area=area,
        state=str(State.REGISTERED),
        awaiting=None,
        chain=",".join(chain),
        definition_version=DEFINITION_VERSION,
        returned_level=None,
        returns=0,
        signoffs={},
        created_at=now,
        updated_at=now,
        version=0,
        last_hash=audit.GENESIS,
        award_number=None,
        award_date=None,
        award_form=None,
    )
    add(session, nomination, unit, campaign)
    round_name = str(local_date(now).year)
    session.connection().execute(
        _INSERT_TERMS, {"nomination_id": nomination.id, "round": round_name, "sought_form": form}
    )
    audit.record(
        session,
        nomination,
        f"nomination:{nomination.id}",
        at=now,
        actor=_actor(principal, grant),
        trigger=Trigger.REGISTER,
        from_state=None,
        to_state=nomination.state,
        payload={
            "campaign": campaign.code,
            "unit": unit.code,
            "nominee_kind": nominee_kind,
            "nominee_name": nominee_name,
            "nominee": nominee.username if nominee else None,
            "title": title,
            "area": area,
            "chain": list(chain),
            "round": round_name,
            **({"form": form} if form is not None else {}),
        },
        definition_version=DEFINITION_VERSION,
    )
    save(session, nomination)
    return nomination


def officer_step(
    principal: Principal,
    nomination: Nomination,
    trigger: str,
    now: datetime,
    session: Session,
    reason: str | None = None,
) -> None:
    """implement, report, resubmit, withdraw: an officer of the nomination's unit acts."""
    grant = officer_grant(principal, nomination)
    if trigger == Trigger.REPORT and now >= nomination.campaign.report_deadline:
        raise DeadlinePassed(
            "report_deadline",
            f"reports for campaign {nomination.campaign.code} closed at "
            f"{format_local(nomination.campaign.report_deadline)} (Vietnam time); "
            f"it is now {format_local(now, seconds=True)}",
        )
    change(session, nomination, trigger, _actor(principal, grant), now, reason)


def review(
    principal: Principal,
    nomination: Nomination,
    trigger: str,
    now: datetime,
    session: Session,
    reason: str | None = None,
) -> None:
    """approve, return, reject: an approver at the level the nomination awaits decides.

    A substitute may act within a delegation (workflow/delegations.py): the entry names both and
    separation of duties applies to both. At a level with a council, `approve` is the council's
    vote (workflow/votes.py); an approver may still return or reject, and a return discards the
    votes cast so far.
    """
    acting = delegations.resolve(
        session,
        principal,
        nomination.unit,
        now,
        lambda person: review_grant(person, nomination, trigger),
    )
    grant = acting.authority
    level = grant.unit.level
    council = councils.council_at(session, nomination.campaign_id, level)
    if council is not None and trigger == Trigger.APPROVE:
        raise Refused(
            "council",
            f"level '{level}' of campaign {nomination.campaign.code} is decided by its council's "
            f"vote (threshold {council.threshold}); members vote with 'thidua vote "
            f"{nomination.id}'",
        )
    signoffs: dict[str, list[int]] = nomination.signoffs or {}
    who = principal.username
    try:
        for person in acting.people:
            if acting.delegation is not None:
                who = f"{principal.username} for {acting.principal.username} ({person.username})"
            states.check_separation_of_duties(
                person.id,
                level,
                proposer=nomination.proposer_id,
                nominee=nomination.nominee_person_id,
                signoffs=signoffs,
            )
        if trigger == Trigger.RETURN:
            states.check_return_once(nomination.returns)
    except RuleViolation as exc:
        raise Forbidden(exc.rule, f"{who} on nomination {nomination.id}: {exc}") from exc
    payload: dict[str, Any] = {"level": level, **acting.payload()}
    if trigger == Trigger.APPROVE:
        nomination.signoffs = {
            **signoffs,
            level: [*signoffs.get(level, []), *acting.ids],
        }
    elif trigger == Trigger.RETURN:
        nomination.signoffs = {key: ids for key, ids in signoffs.items() if key != level}
    if council is not None and trigger == Trigger.RETURN:
        visit = councils.current_visit(session, nomination)
        payload["cleared_votes"] = len(councils.votes_of(session, nomination.id, level, visit))
    change(
        session,
        nomination,
        trigger,
        acting.actor(grant.role, grant.unit.code),
        now,
        reason,
        payload,
    )
