"""Award decisions over a batch, within a round's quota, and their revocation.

A decision (quyết định) has a number ("163/QĐ-UBND"), a date, a form and a signer — the award
authority of every nomination in it (workflow/rounds.py). It is refused as a whole, writing
nothing, when any nomination in it has not passed its last level, seeks another form, is still
in (or skipped) its public comment period, or when the batch would exceed the round's quota for
a nominee kind. A decision is known by its issuing unit and number: awarding again under the
same number, date and form adds to that decision (one name at a time, as `thidua award ID`
does); any other reuse of a number is refused.

Awards revoked later still count against their round's quota: the quota was spent by decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import states
from states import Trigger
from workflow import nominations, public_comment, rounds
from workflow.directory import Principal
from workflow.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    QuotaExceeded,
    Refused,
)
from workflow.round_rules import check_form, rules_of
from workflow.round_tables import AwardDecision, DecisionItem
from workflow.tables import Campaign, Nomination
from workflow.text import clean_text
from workflow.timeutil import local_date

__all__ = ["awarded_count", "decide", "revoke"]


def _number(number: str) -> str:
    number = clean_text(number, "decision number", "code")
    if not nominations.DECISION_NUMBER.match(number):
        raise InvalidInput(f"decision number '{number}' is not of the form 163/QĐ-UBND")
    return number


def _check_date(decided_on: date, now: datetime) -> None:
    if decided_on > local_date(now):
        raise InvalidInput(
            f"decision date {decided_on:%d/%m/%Y} is after today {local_date(now):%d/%m/%Y}"
        )


#: Built once, so each decision reuses their compiled forms.
_LOCK_CAMPAIGN = (
    select(Campaign.id).where(Campaign.id == bindparam("campaign_id")).with_for_update()
)
_DECISION_BY_NUMBER = select(AwardDecision).where(
    AwardDecision.issuing_unit_id == bindparam("unit_id"),
    AwardDecision.number == bindparam("number"),
)
#: A decision's items are written at once, one INSERT each, not in a flush at commit.
_INSERT_ITEM = insert(DecisionItem)


def _add_decision(session: Session, decision: AwardDecision) -> None:
    session.add(decision)
    try:
        session.flush()
    except IntegrityError as exc:  # the same number, issued by someone else meanwhile
        raise Conflict(
            f"decision {decision.number} was issued by someone else while this command ran; "
            "nothing was applied — check it with `thidua decision show` and try again"
        ) from exc


def awarded_count(session: Session, campaign: Campaign, round_name: str, kind: str) -> int:
    return (
        session.scalar(
            select(func.count(DecisionItem.id))
            .join(AwardDecision, AwardDecision.id == DecisionItem.decision_id)
            .where(
                AwardDecision.kind == "award",
                AwardDecision.campaign_id == campaign.id,
                AwardDecision.round == round_name,
                DecisionItem.nominee_kind == kind,
            )
        )
        or 0
    )


def _check_quota(
    session: Session, campaign: Campaign, round_name: str, batch: Sequence[Nomination], number: str
) -> None:
    quotas = rules_of(session, campaign).quotas or {}
    for kind, count in sorted(Counter(n.nominee_kind for n in batch).items()):
        if kind not in quotas:
            continue
        used = awarded_count(session, campaign, round_name, kind)
        if used + count > quotas[kind]:
            raise QuotaExceeded(
                f"decision {number} would award {count} '{kind}' nominee(s) in round "
                f"{round_name} of campaign {campaign.code}, whose quota is {quotas[kind]} with "
                f"{used} awarded already: {max(quotas[kind] - used, 0)} remain"
            )


def decide(
    session: Session,
    principal: Principal,
    batch: Sequence[Nomination],
    now: datetime,
    *,
    number: str,
    decided_on: date,
    form: str,
) -> AwardDecision:
    """Award every nomination of `batch` by one decision, or refuse the whole batch."""
    if not batch:
        raise InvalidInput("a decision needs at least one nomination")
    ids = [n.id for n in batch]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"a decision names each nomination once: {ids}")
    campaign = batch[0].campaign
    grants = []
    for nomination in batch:
        if nomination.campaign_id != campaign.id:
            raise Refused(
                "decision_scope",
                f"nomination {nomination.id} is in campaign {nomination.campaign.code}, not "
                f"{campaign.code}; a decision awards within one campaign",
            )
        grants.append(rounds.award_grant(principal, nomination))
        rounds.check_not_involved(principal, nomination, "award")
    grant = grants[0]
    if any(g.unit.id != grant.unit.id for g in grants):
        raise Refused(
            "decision_scope",
            f"the nominations of decision {number} have different award authorities; "
            "a decision is signed for one unit",
        )
    number = _number(number)
    _check_date(decided_on, now)
    form = check_form(form)
    granter = "department" if grant.unit.kind == "agency" else grant.unit.level
    allowed = states.forms_granted(granter, decided_on)
    if form not in allowed:
        raise Refused(
            "award_authority",
            f"'{form}' is not granted at level '{granter}'; "
            f"it grants: {', '.join(sorted(allowed))}",
        )
    round_names = set()
    for nomination in batch:
        rounds.check_ready(nomination)
        terms = rounds.terms_of(session, nomination)
        if terms.sought_form is not None and terms.sought_form != form:
            raise Refused(
                "award_form",
                f"nomination {nomination.id} seeks '{terms.sought_form}', not '{form}'",
            )
        round_names.add(terms.round)
    if len(round_names) > 1:
        raise Refused(
            "decision_scope",
            f"decision {number} mixes rounds {', '.join(sorted(round_names))}; "
            "a decision awards within one round",
        )
    round_name = round_names.pop()
    # Serialise the decisions of one campaign (PostgreSQL; SQLite writers are serial already), so
    # two batches signed at once cannot both fit in what remains of the quota.
    session.execute(_LOCK_CAMPAIGN, {"campaign_id": campaign.id})
    decision = session.scalars(
        _DECISION_BY_NUMBER, {"unit_id": grant.unit.id, "number": number}
    ).one_or_none()
    if decision is not None and (
        decision.kind != "award"
        or (decision.decided_on, decision.form) != (decided_on, form)
        or (decision.campaign_id, decision.round) != (campaign.id, round_name)
    ):
        raise Refused(
            "decision_number",
            f"{grant.unit.name} already issued decision {number} ngày "
            f"{decision.decided_on:%d/%m/%Y} ({decision.kind}, {decision.form}); "
            "a new decision needs a new number",
        )
    _check_quota(session, campaign, round_name, batch, number)
    public_comment.check_commented(session, batch, form, now, decided_on)
    if decision is None:
        decision = AwardDecision(
            kind="award",
            number=number,
            decided_on=decided_on,
            form=form,
            issuing_unit_id=grant.unit.id,
            signer_id=principal.id,
            campaign_id=campaign.id,
            round=round_name,
            reason=None,
            created_at=now,
        )
        _add_decision(session, decision)
    who = rounds.actor(principal, grant)
    for nomination in batch:
        session.connection().execute(
            _INSERT_ITEM,
            {
                "decision_id": decision.id,
                "nomination_id": nomination.id,
                "nominee_kind": nomination.nominee_kind,
            },
        )
        nomination.award_number, nomination.award_date, nomination.award_form = (
            number,
            decided_on,
            form,
        )
        nominations.change(
            session,
            nomination,
            Trigger.AWARD,
            who,
            now,
            payload={
                "number": number,
                "date": decided_on.isoformat(),
                "form": form,
                "decision": decision.id,
                "round": round_name,
            },
        )
    return decision


def revoke(
    session: Session,
    principal: Principal,
    nomination: Nomination,
    now: datetime,
    *,
    number: str,
    decided_on: date,
    reason: str,
) -> AwardDecision:
    """Revoke an award by a decision of the authority that granted it."""
    award = session.scalars(
        select(AwardDecision)
        .join(DecisionItem, DecisionItem.decision_id == AwardDecision.id)
        .where(DecisionItem.nomination_id == nomination.id, AwardDecision.kind == "award")
        .order_by(AwardDecision.id.desc())
        .limit(1)
    ).one_or_none()
    if award is None or nomination.state != states.State.AWARDED:
        raise InvalidTransition(
            f"nomination {nomination.id} is '{nomination.state}'; 'revoke' needs 'awarded'"
        )
    grant = next(
        (g for g in principal.holding("approver") if g.unit.id == award.issuing_unit_id), None
    )
    if grant is None:
        raise Forbidden(
            "role",
            f"{principal.username} is not an approver of the unit that issued decision "
            f"{award.number}; only the authority that granted an award revokes it",
        )
    number = _number(number)
    _check_date(decided_on, now)
    if decided_on < award.decided_on:
        raise InvalidInput(
            f"revocation date {decided_on:%d/%m/%Y} is before the award decision "
            f"{award.number} ngày {award.decided_on:%d/%m/%Y}"
        )
    taken = session.scalars(
        select(AwardDecision.id).where(
            AwardDecision.issuing_unit_id == award.issuing_unit_id, AwardDecision.number == number
        )
    ).first()
    if taken is not None:
        raise Refused(
            "decision_number",
            f"decision number {number} is already used by this unit; "
            "a revocation needs a new number",
        )
    decision = AwardDecision(
        kind="revocation",
        number=number,
        decided_on=decided_on,
        form=award.form,
        issuing_unit_id=award.issuing_unit_id,
        signer_id=principal.id,
        campaign_id=award.campaign_id,
        round=award.round,
        reason=reason,
        created_at=now,
    )
    _add_decision(session, decision)
    session.add(
        DecisionItem(
            decision_id=decision.id,
            nomination_id=nomination.id,
            nominee_kind=nomination.nominee_kind,
        )
    )
    nominations.change(
        session,
        nomination,
        Trigger.REVOKE,
        rounds.actor(principal, grant),
        now,
        reason,
        {
            "number": number,
            "date": decided_on.isoformat(),
            "revokes": award.number,
            "decision": decision.id,
        },
    )
    return decision
