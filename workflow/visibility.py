"""What a person may read: the nominations of the units their roles reach, and their councils'.

A role over a unit reaches that unit and every unit below it (an approver of Quận 12 reads the
wards' dossiers; a provincial auditor reads the whole province). A council member reads every
dossier of the council's campaign, and a substitute reads what a delegation in force lends them.
The HTTP API and the web pages read through this; the CLI is the administrator's own tool.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from workflow.directory import Principal, load_principal
from workflow.errors import Forbidden, NotFound
from workflow.tables import Council, CouncilMember, Delegation, Nomination, Person, Unit

__all__ = ["Reach", "check_nomination", "reach_of", "require_role", "visible_ids"]


@dataclass(frozen=True)
class Reach:
    """The unit paths and council campaigns one person's reads cover."""

    username: str
    paths: tuple[str, ...]
    campaigns: frozenset[int]
    roles: frozenset[str]

    def condition(self) -> ColumnElement[bool]:
        """A WHERE clause over `Nomination` joined with its `Unit`."""
        clauses: list[ColumnElement[bool]] = [
            Unit.path.startswith(path, autoescape=True) for path in self.paths
        ]
        if self.campaigns:
            clauses.append(Nomination.campaign_id.in_(sorted(self.campaigns)))
        return or_(*clauses) if clauses else false()

    def covers(self, unit_path: str, campaign_id: int) -> bool:
        return campaign_id in self.campaigns or any(unit_path.startswith(p) for p in self.paths)


def reach_of(session: Session, principal: Principal, now: datetime) -> Reach:
    paths = {grant.unit.path for grant in principal.grants}
    roles = {grant.role for grant in principal.grants}
    campaigns = set(
        session.scalars(
            select(Council.campaign_id)
            .join(CouncilMember, CouncilMember.council_id == Council.id)
            .where(CouncilMember.person_id == principal.id)
        )
    )
    lent = session.execute(
        select(Delegation, Person.username)
        .join(Person, Delegation.delegator_id == Person.id)
        .where(
            Delegation.substitute_id == principal.id,
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
            Delegation.revoked_at.is_(None),
        )
    ).all()
    for delegation, username in lent:
        delegator = load_principal(session, username)
        limit = session.get(Unit, delegation.unit_id) if delegation.unit_id else None
        for grant in delegator.holding("approver"):
            if limit is None or limit.path.startswith(grant.unit.path):
                paths.add(limit.path if limit is not None else grant.unit.path)
    # A path inside another adds nothing: keep the outermost ones.
    outer = tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))
    return Reach(principal.username, outer, frozenset(campaigns), frozenset(roles))


def check_nomination(session: Session, reach: Reach, nomination_id: int) -> None:
    """Forbidden unless `reach` covers the nomination; NotFound when there is none."""
    row: Any = session.execute(
        select(Unit.path, Unit.code, Unit.name, Nomination.campaign_id)
        .join(Nomination, Nomination.unit_id == Unit.id)
        .where(Nomination.id == nomination_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no nomination with id {nomination_id}")
    if not reach.covers(row.path, row.campaign_id):
        raise Forbidden(
            "unit_scope",
            f"nomination {nomination_id} belongs to {row.name} ({row.code}), outside the units "
            f"{reach.username} holds a role in",
        )


def require_role(principal: Principal, *roles: str) -> None:
    """Forbidden unless `principal` holds one of `roles` (over any unit)."""
    if not any(principal.holding(role) for role in roles):
        raise Forbidden(
            "role",
            f"{principal.username} holds no {' or '.join(repr(r) for r in roles)} role; "
            "this is for " + " and ".join(f"{r}s" for r in roles),
        )


def visible_ids(session: Session, reach: Reach, ids: Iterable[int]) -> set[int]:
    """Those of `ids` whose nominations `reach` covers (to filter a list to what one may read)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(Nomination.id)
            .join(Unit, Nomination.unit_id == Unit.id)
            .where(Nomination.id.in_(wanted), reach.condition())
        )
    )
