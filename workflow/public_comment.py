"""Public comment: a batch published for a period of working days before its award decision.

The forms that need it are a campaign setting (workflow/round_rules.py; by default the high
provincial titles). During the period anyone holding a role over the nomination's unit records
an objection it received; the objection fires `object`, which sends the nomination back to the
state in which it awaits its last level again (the last level's sign-offs are discarded, so that
level reviews it afresh), and it must be published again after that review. A decision on such
a form is refused (rule "public_comment") for a nomination that was not published, whose period
has not ended, or that was objected to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import Trigger
from workflow import nominations, rounds
from workflow.directory import Principal, covers
from workflow.errors import Forbidden, InvalidInput, Refused
from workflow.round_rules import check_form, rules_of
from workflow.round_tables import Publication, PublicationItem
from workflow.tables import Nomination
from workflow.timeutil import format_local, local_date, start_of_day
from workflow.working_days import period_end

__all__ = ["check_commented", "object_to", "open_item", "publish"]


def open_item(session: Session, nomination_id: int) -> tuple[PublicationItem, Publication] | None:
    """The nomination's newest publication it was not objected to in, if any."""
    row = session.execute(
        select(PublicationItem, Publication)
        .join(Publication, Publication.id == PublicationItem.publication_id)
        .where(PublicationItem.nomination_id == nomination_id)
        .where(PublicationItem.objected_at.is_(None))
        .order_by(Publication.id.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def publish(
    session: Session,
    principal: Principal,
    batch: Sequence[Nomination],
    now: datetime,
    *,
    form: str,
    days: int | None = None,
) -> Publication:
    """The award authority publishes nominations that passed their last level, for comment."""
    form = check_form(form)
    if not batch:
        raise InvalidInput("a publication needs at least one nomination")
    campaign = batch[0].campaign
    rules = rules_of(session, campaign)
    period = rules.public_comment_days if days is None else days
    if period < 1:
        raise InvalidInput(f"a comment period of {period} working days is too short")
    grant = None
    for nomination in batch:
        if nomination.campaign_id != campaign.id:
            raise Refused(
                "decision_scope",
                f"nomination {nomination.id} is in campaign {nomination.campaign.code}, "
                f"not {campaign.code}; publish one campaign at a time",
            )
        grant = rounds.award_grant(principal, nomination, "publishes")
        rounds.check_ready(nomination, "publish")
        sought = rounds.terms_of(session, nomination).sought_form
        if sought is not None and sought != form:
            raise Refused(
                "award_form", f"nomination {nomination.id} seeks '{sought}', not '{form}'"
            )
        if open_item(session, nomination.id) is not None:
            raise Refused(
                "public_comment",
                f"nomination {nomination.id} is already published for comment",
            )
    assert grant is not None
    ends_at = start_of_day(period_end(local_date(now), period))
    publication = Publication(
        campaign_id=campaign.id,
        form=form,
        publisher_id=principal.id,
        published_at=now,
        ends_at=ends_at,
    )
    session.add(publication)
    session.flush()
    who = rounds.actor(principal, grant)
    for nomination in batch:
        session.add(PublicationItem(publication_id=publication.id, nomination_id=nomination.id))
        rounds.annotate(
            session,
            nomination,
            who,
            now,
            "published",
            {
                "publication": publication.id,
                "form": form,
                "working_days": period,
                "ends_at": ends_at.isoformat(),
            },
        )
    return publication


def object_to(
    session: Session,
    principal: Principal,
    nomination: Nomination,
    now: datetime,
    *,
    objection: str,
) -> PublicationItem:
    """Record an objection received during the period: the nomination goes back a level."""
    grant = next(
        (
            g
            for g in principal.grants
            if covers(g.unit, nomination.unit) or g.unit.id == nomination.campaign.issuing_unit_id
        ),
        None,
    )
    if grant is None:
        raise Forbidden(
            "unit_scope",
            f"{principal.username} holds no role over {nomination.unit.name} "
            f"({nomination.unit.code}) or the unit that issued campaign "
            f"{nomination.campaign.code}; objections are recorded by its officers and approvers",
        )
    found = open_item(session, nomination.id)
    if found is None:
        raise Refused("public_comment", f"nomination {nomination.id} is not published for comment")
    item, publication = found
    if now >= publication.ends_at:
        raise Refused(
            "public_comment",
            f"the comment period of nomination {nomination.id} ended at "
            f"{format_local(publication.ends_at)} (Vietnam time)",
        )
    item.objected_at, item.objector_id, item.objection = now, principal.id, objection
    last = nominations.chain_of(nomination)[-1]
    signoffs = nomination.signoffs or {}
    nomination.signoffs = {level: ids for level, ids in signoffs.items() if level != last}
    nominations.change(
        session,
        nomination,
        Trigger.OBJECT,
        rounds.actor(principal, grant),
        now,
        objection,
        {"publication": publication.id, "level": last},
    )
    return item


def check_commented(
    session: Session, batch: Sequence[Nomination], form: str, now: datetime, decided_on: date
) -> None:
    """Each nomination of a decision on `form` went through its comment period unopposed."""
    for nomination in batch:
        if not rules_of(session, nomination.campaign).needs_comment(form):
            continue
        found = open_item(session, nomination.id)
        if found is None or found[1].form != form:
            raise Refused(
                "public_comment",
                f"'{form}' is published for comment before its decision; nomination "
                f"{nomination.id} has not been published (thidua publish)",
            )
        ends_at = found[1].ends_at
        if now < ends_at or decided_on < local_date(ends_at):
            raise Refused(
                "public_comment",
                f"the comment period of nomination {nomination.id} runs until "
                f"{format_local(ends_at)} (Vietnam time); no decision before it ends",
            )
