"""Councils (Hội đồng Thi đua – Khen thưởng): a campaign's review level decided by members' votes.

A council belongs to a campaign and one of its levels, and serves every nomination of that
campaign reviewed at that level (in the seeds, the provincial council of a provincial campaign).
Its members are the people the council's decision names; they need no approver role. Its
threshold is a share of ALL members ("90%", the old rule for provincial titles: 9 of 10) or
"N/M" (3 of 4, M being the number of members); `required` is the approvals that complete it.

A nomination's *visit* at a level is the audit sequence of the entry that brought it there; only
the votes of the current visit count, so a return (and the resubmission after it) clears them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from states import DEFINITION_VERSION
from workflow import audit
from workflow.campaigns import campaign_by_code
from workflow.directory import Principal, covers, load_principal
from workflow.errors import Forbidden, InvalidInput, Refused
from workflow.tables import (
    AuditEntry,
    Campaign,
    Council,
    CouncilMember,
    CouncilVote,
    Nomination,
    Person,
)
from workflow.text import clean_code
from workflow.timeutil import format_local

__all__ = [
    "Tally",
    "council_at",
    "current_visit",
    "note_no_councils",
    "parse_threshold",
    "set_all",
    "set_council",
    "split_spec",
    "status",
    "tally",
    "votes_of",
]

_SHARE = re.compile(r"^(\d{1,3}(?:[.,]\d{1,2})?)\s*%$")
_N_OF_M = re.compile(r"^(\d{1,4})\s*/\s*(\d{1,4})$")


def parse_threshold(text: str, members: int) -> tuple[str, int]:
    """The threshold as stored ("90%" or "3/4") and the approvals it needs of `members`."""
    given = str(text).strip()
    share = _SHARE.match(given)
    if share:
        percent = Fraction(share.group(1).replace(",", "."))
        if not 0 < percent <= 100:
            raise InvalidInput(f"threshold '{given}' must be a share above 0 % and at most 100 %")
        return f"{share.group(1).replace(',', '.')}%", math.ceil(percent * members / 100)
    n_of_m = _N_OF_M.match(given)
    if n_of_m:
        needed, of = int(n_of_m.group(1)), int(n_of_m.group(2))
        if of != members:
            raise InvalidInput(
                f"threshold '{given}' counts {of} members but the council has {members}"
            )
        if not 1 <= needed <= of:
            raise InvalidInput(f"threshold '{given}' must need between 1 and {of} approvals")
        return f"{needed}/{of}", needed
    raise InvalidInput(f"threshold '{given}' is neither a share like '90%' nor N of M like '3/4'")


@dataclass(frozen=True)
class Tally:
    members: int
    required: int
    approvals: int
    rejections: int

    @property
    def reached(self) -> bool:
        return self.approvals >= self.required

    @property
    def unreachable(self) -> bool:
        """Even if every member yet to vote approved, the threshold would not be reached."""
        return self.members - self.rejections < self.required

    def to_dict(self) -> dict[str, int]:
        return {
            "members": self.members,
            "required": self.required,
            "approve": self.approvals,
            "reject": self.rejections,
            "not_voted": self.members - self.approvals - self.rejections,
        }


#: A campaign's councils with their members, built once (each call reuses its compiled form).
_COUNCILS_OF = (
    select(Council)
    .where(Council.campaign_id == bindparam("campaign_id"))
    .options(selectinload(Council.members))
)
_KNOWN = "thidua.councils"


def note_no_councils(session: Session, campaign_id: int) -> None:
    """Tell `council_at` that the campaign has no council (read with the nomination itself)."""
    session.info.setdefault(_KNOWN, {}).setdefault(campaign_id, {})


def council_at(session: Session, campaign_id: int, level: str) -> Council | None:
    """The campaign's council at `level`, or None. A command asks for two levels (the one it
    decides at and the one it moves to): the campaign's councils are read once per transaction
    (`set_council` forgets them when it changes one)."""
    known: dict[int, dict[str, Council]] = session.info.setdefault(_KNOWN, {})
    found = known.get(campaign_id)
    if found is None:
        rows = session.scalars(_COUNCILS_OF, {"campaign_id": campaign_id})
        found = known[campaign_id] = {council.level: council for council in rows}
    return found.get(level)


def current_visit(session: Session, nomination: Nomination) -> int:
    """The sequence of the entry that moved the nomination into its current state."""
    return _visit(session, nomination.id)


def _visit(session: Session, nomination_id: int) -> int:
    seq = session.scalar(
        select(func.max(AuditEntry.seq)).where(
            AuditEntry.stream == f"nomination:{nomination_id}",
            or_(AuditEntry.from_state.is_(None), AuditEntry.from_state != AuditEntry.to_state),
        )
    )
    return int(seq or 0)


def votes_of(session: Session, nomination_id: int, level: str, visit: int) -> Sequence[CouncilVote]:
    return session.scalars(
        select(CouncilVote)
        .where(
            CouncilVote.nomination_id == nomination_id,
            CouncilVote.level == level,
            CouncilVote.visit == visit,
        )
        .order_by(CouncilVote.id)
    ).all()


def tally(council: Council, votes: Sequence[CouncilVote]) -> Tally:
    members = {m.person_id for m in council.members}
    counted = [v for v in votes if v.member_id in members]
    approvals = sum(1 for v in counted if v.approve)
    return Tally(len(members), council.required, approvals, len(counted) - approvals)


def _campaign_state(session: Session, campaign: Campaign) -> str | None:
    return session.scalar(
        select(AuditEntry.to_state).where(
            AuditEntry.stream == f"campaign:{campaign.id}", AuditEntry.seq == campaign.version
        )
    )


def set_council(
    session: Session,
    principal: Principal,
    now: datetime,
    *,
    campaign: Campaign,
    level: str,
    members: Sequence[str],
    threshold: str,
) -> Council:
    """Set (or replace) the council of `campaign` at `level`; an admin over the campaign does it.

    Refused while a nomination awaiting that level has votes its current visit counts: changing
    the members or the threshold under a running vote would change what those votes mean.
    """
    unit = campaign.issuing_unit
    admin = next((g for g in principal.holding("admin") if covers(g.unit, unit)), None)
    if admin is None:
        raise Forbidden(
            "role",
            f"{principal.username} is not an admin of {unit.name} ({unit.code}) or a unit above "
            f"it, which issued campaign {campaign.code}; admin of: {principal.scopes('admin')}",
        )
    tiers = campaign.tiers.split(",")
    if level not in tiers:
        raise InvalidInput(
            f"level '{level}' is not one of campaign {campaign.code}'s tiers {', '.join(tiers)}"
        )
    usernames = [clean_code(name, "council member") for name in members]
    if not usernames:
        raise InvalidInput("a council needs at least one member")
    twice = sorted({name for name in usernames if usernames.count(name) > 1})
    if twice:
        raise InvalidInput(f"council members named twice: {', '.join(twice)}")
    people = [load_principal(session, name) for name in usernames]
    stored, required = parse_threshold(threshold, len(people))
    council = council_at(session, campaign.id, level)
    if council is not None:
        busy = [
            nomination_id
            for nomination_id in session.scalars(
                select(Nomination.id)
                .join(CouncilVote, CouncilVote.nomination_id == Nomination.id)
                .where(
                    Nomination.campaign_id == campaign.id,
                    Nomination.awaiting == level,
                    CouncilVote.level == level,
                )
                .distinct()
            )
            if votes_of(session, nomination_id, level, _visit(session, nomination_id))
        ]
        if busy:
            raise Refused(
                "council_in_use",
                f"the council of campaign {campaign.code} at level '{level}' is voting on "
                f"nomination(s) {', '.join(map(str, sorted(busy)))}; it cannot change until "
                "those votes complete",
            )
        council.threshold, council.required = stored, required
        council.members.clear()
        session.flush()
    else:
        council = Council(
            campaign_id=campaign.id,
            level=level,
            threshold=stored,
            required=required,
            created_at=now,
            members=[],
        )
        session.add(council)
    council.members.extend(CouncilMember(person_id=person.id) for person in people)
    session.flush()
    session.info.get(_KNOWN, {}).pop(campaign.id, None)
    state = _campaign_state(session, campaign)
    audit.record(
        session,
        campaign,
        f"campaign:{campaign.id}",
        at=now,
        actor=audit.Actor(principal.id, principal.person.full_name, "admin", admin.unit.code),
        trigger="council_set",
        from_state=state,
        to_state=state,
        payload={
            "level": level,
            "members": usernames,
            "threshold": stored,
            "required": required,
        },
        definition_version=DEFINITION_VERSION,
    )
    return council


def split_spec(spec: Any) -> tuple[Any, list[Mapping[str, Any]]]:
    """A [[campaigns]] table without its `councils = [{level, members, threshold}]`, and those."""
    if not isinstance(spec, Mapping) or "councils" not in spec:
        return spec, []
    found = spec["councils"]
    if not isinstance(found, list) or not all(isinstance(c, Mapping) for c in found):
        raise InvalidInput("councils must be a list of {level, members, threshold} tables")
    return {key: value for key, value in spec.items() if key != "councils"}, found


def set_all(
    session: Session,
    principal: Principal,
    now: datetime,
    campaign: Campaign,
    specs: Sequence[Mapping[str, Any]],
) -> None:
    """Set the councils a campaign's [[campaigns]] table names."""
    if not specs:
        return
    campaign = campaign_by_code(session, campaign.code)
    for spec in specs:
        unknown = sorted(set(spec) - {"level", "members", "threshold"})
        missing = sorted({"level", "members", "threshold"} - set(spec))
        if unknown or missing:
            raise InvalidInput(
                f"a council of campaign {campaign.code} takes level, members and threshold"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
            )
        members = spec["members"]
        if isinstance(members, str) or not isinstance(members, list):
            raise InvalidInput(f"council members of campaign {campaign.code} must be a list")
        set_council(
            session,
            principal,
            now,
            campaign=campaign,
            level=str(spec["level"]),
            members=members,
            threshold=str(spec["threshold"]),
        )


def _names(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = session.execute(
        select(Person.id, Person.username, Person.full_name).where(Person.id.in_(ids))
    )
    return {pid: (username, name) for pid, username, name in rows}


def status(session: Session, nomination: Nomination) -> dict[str, Any]:
    """The council awaiting the nomination (if any) with its tally, and every vote ever cast."""
    votes = session.scalars(
        select(CouncilVote)
        .where(CouncilVote.nomination_id == nomination.id)
        .order_by(CouncilVote.id)
    ).all()
    council = (
        council_at(session, nomination.campaign_id, nomination.awaiting)
        if nomination.awaiting
        else None
    )
    visit = current_visit(session, nomination) if council is not None else None
    ids = {v.member_id for v in votes} | {v.cast_by_id for v in votes}
    if council is not None:
        ids |= {m.person_id for m in council.members}
    names = _names(session, ids) if ids else {}
    pending: dict[str, Any] | None = None
    if council is not None and nomination.awaiting is not None and visit is not None:
        current = [v for v in votes if v.level == nomination.awaiting and v.visit == visit]
        voted = {v.member_id for v in current}
        pending = {
            "level": council.level,
            "threshold": council.threshold,
            "members": [names[m.person_id][0] for m in council.members],
            "not_voted": [
                names[m.person_id][0] for m in council.members if m.person_id not in voted
            ],
            "tally": tally(council, current).to_dict(),
        }
    return {
        "council": pending,
        "votes": [
            {
                "level": v.level,
                "member": names[v.member_id][0],
                "member_name": names[v.member_id][1],
                "cast_by": names[v.cast_by_id][0],
                "vote": "approve" if v.approve else "reject",
                "comment": v.comment,
                "at": format_local(v.cast_at),
                "counts": pending is not None
                and v.level == nomination.awaiting
                and v.visit == visit,
            }
            for v in votes
        ],
    }
