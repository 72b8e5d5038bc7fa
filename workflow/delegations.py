"""Delegation: an approver names a substitute who signs on their behalf for a period.

`thidua delegate --as chutich.q12 --to pho.q12 --from 01/06/2022 --until 15/06/2022` lets pho.q12
approve, return, reject — and vote, when chutich.q12 sits on a council — from 01/06/2022 00:00 to
the end of 15/06/2022 (Vietnam time), for the nominations chutich.q12 could sign, optionally only
those of the units below `--unit`. The substitute's entries name the substitute as the actor and
the delegator in the payload (`on_behalf_of`); separation of duties applies to both people.

Each delegation has its own audit stream, "delegation:<id>": `delegate` (→ active) and `revoke`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from states import DEFINITION_VERSION
from workflow import audit
from workflow.directory import Principal, covers, load_principal, unit_by_code
from workflow.errors import Forbidden, InvalidInput, InvalidTransition, NotFound, Refused
from workflow.tables import CouncilMember, Delegation, Person, Unit
from workflow.timeutil import format_date, format_local, local_date, start_of_day

__all__ = ["Acting", "create", "describe", "list_for", "resolve", "revoke"]

T = TypeVar("T")


@dataclass(frozen=True)
class Acting(Generic[T]):
    """Who acts, with whose authority: `by` signs for `principal` (themselves, or a delegator)."""

    principal: Principal
    authority: T
    by: Principal
    delegation: Delegation | None = None

    @property
    def people(self) -> tuple[Principal, ...]:
        """Everyone separation of duties applies to: the signer and, if any, the delegator."""
        return (self.principal,) if self.delegation is None else (self.by, self.principal)

    @property
    def ids(self) -> list[int]:
        return [person.id for person in self.people]

    def actor(self, role: str, unit: str | None) -> audit.Actor:
        return audit.Actor(self.by.id, self.by.person.full_name, role, unit)

    def payload(self) -> dict[str, Any]:
        if self.delegation is None:
            return {}
        return {
            "on_behalf_of": {
                "id": self.principal.id,
                "username": self.principal.username,
                "name": self.principal.person.full_name,
            },
            "delegation": self.delegation.id,
        }


def _period(delegation: Delegation) -> str:
    last_day = local_date(delegation.ends_at) - timedelta(days=1)
    return f"from {format_local(delegation.starts_at)[:10]} until {format_date(last_day)}"


def resolve(
    session: Session,
    principal: Principal,
    unit: Unit,
    now: datetime,
    entitled: Callable[[Principal], T],
    on_behalf_of: str | None = None,
) -> Acting[T]:
    """Who `principal` acts as on a dossier of `unit`: themselves if `entitled` allows it, else a
    delegator whose delegation to them covers `unit` and `now`.

    `entitled` returns the authority or raises Forbidden / InvalidTransition; when no delegation
    helps, the principal's own refusal is raised — or Refused("delegation") when a delegation
    would have helped but it is outside its period or revoked.
    """
    own: Forbidden | InvalidTransition | None = None
    if on_behalf_of is None:
        try:
            return Acting(principal, entitled(principal), principal)
        except (Forbidden, InvalidTransition) as exc:
            own = exc
    query = (
        select(Delegation, Person.username)
        .join(Person, Delegation.delegator_id == Person.id)
        .where(Delegation.substitute_id == principal.id)
        .options(joinedload(Delegation.unit))
        .order_by(Delegation.id)
    )
    if on_behalf_of is not None:
        query = query.where(Person.username == on_behalf_of)
    stale: list[str] = []
    for delegation, username in session.execute(query):
        if delegation.unit is not None and not covers(delegation.unit, unit):
            continue
        delegator = load_principal(session, username)
        try:
            authority = entitled(delegator)
        except (Forbidden, InvalidTransition):
            continue
        if delegation.revoked_at is not None and delegation.revoked_at <= now:
            stale.append(
                f"delegation {delegation.id} from {username} was revoked at "
                f"{format_local(delegation.revoked_at)}"
            )
        elif not delegation.starts_at <= now < delegation.ends_at:
            stale.append(f"delegation {delegation.id} from {username} runs {_period(delegation)}")
        else:
            return Acting(delegator, authority, principal, delegation)
    if stale:
        raise Refused(
            "delegation",
            f"{principal.username} cannot act on behalf of another now "
            f"({format_local(now)}, Vietnam time): {'; '.join(stale)}",
        )
    if own is not None:
        raise own
    raise Forbidden(
        "delegation",
        f"{principal.username} holds no delegation from {on_behalf_of} that covers "
        f"{unit.name} ({unit.code}) and entitles this",
    )


def create(
    session: Session,
    principal: Principal,
    now: datetime,
    *,
    substitute: str,
    starts: date,
    until: date,
    unit_code: str | None = None,
) -> Delegation:
    """`principal`, an approver or a council member, names `substitute` for the days
    `starts`..`until` inclusive."""
    approvers = principal.holding("approver")
    member = session.scalar(
        select(CouncilMember.id).where(CouncilMember.person_id == principal.id).limit(1)
    )
    if not approvers and member is None:
        raise Forbidden(
            "role",
            f"{principal.username} holds no approver role and sits on no council: there is "
            "nothing to delegate",
        )
    deputy = load_principal(session, substitute)
    if deputy.id == principal.id:
        raise InvalidInput(f"{principal.username} cannot delegate to themselves")
    if until < starts:
        raise InvalidInput(
            f"the delegation ends {format_date(until)}, before it starts {format_date(starts)}"
        )
    if until < local_date(now):
        raise InvalidInput(
            f"the delegation ends {format_date(until)}, which has passed "
            f"(today is {format_date(local_date(now))})"
        )
    unit = unit_by_code(session, unit_code) if unit_code else None
    grant = next((g for g in approvers if unit is None or covers(g.unit, unit)), None)
    if grant is None and approvers:
        assert unit is not None
        raise Forbidden(
            "unit_scope",
            f"{principal.username} is approver of {principal.scopes('approver')}, which does not "
            f"cover {unit.name} ({unit.code})",
        )
    delegation = Delegation(
        delegator_id=principal.id,
        substitute_id=deputy.id,
        unit_id=unit.id if unit else None,
        starts_at=start_of_day(starts),
        ends_at=start_of_day(until + timedelta(days=1)),
        revoked_at=None,
        created_at=now,
        version=0,
        last_hash=audit.GENESIS,
    )
    delegation.unit = unit
    session.add(delegation)
    session.flush()
    audit.record(
        session,
        delegation,
        f"delegation:{delegation.id}",
        at=now,
        actor=audit.Actor(
            principal.id,
            principal.person.full_name,
            "approver" if grant else "council",
            grant.unit.code if grant else None,
        ),
        trigger="delegate",
        from_state=None,
        to_state="active",
        payload={
            "delegator": principal.username,
            "substitute": deputy.username,
            "from": starts.isoformat(),
            "until": until.isoformat(),
            "unit": unit.code if unit else None,
        },
        definition_version=DEFINITION_VERSION,
    )
    return delegation


def revoke(session: Session, principal: Principal, now: datetime, delegation_id: int) -> Delegation:
    """The delegator ends a delegation early; sign-offs already made stay valid."""
    delegation = session.get(Delegation, delegation_id)
    if delegation is None:
        raise NotFound(f"no delegation with id {delegation_id}")
    if delegation.delegator_id != principal.id:
        raise Forbidden(
            "delegation", f"only the approver who named it may revoke delegation {delegation_id}"
        )
    if delegation.revoked_at is not None:
        raise InvalidTransition(
            f"delegation {delegation_id} was revoked already at "
            f"{format_local(delegation.revoked_at)}"
        )
    if delegation.ends_at <= now:
        raise InvalidTransition(f"delegation {delegation_id} ended already ({_period(delegation)})")
    delegation.revoked_at = now
    audit.record(
        session,
        delegation,
        f"delegation:{delegation.id}",
        at=now,
        actor=audit.Actor(
            principal.id,
            principal.person.full_name,
            "approver" if principal.holding("approver") else "council",
            None,
        ),
        trigger="revoke",
        from_state="active",
        to_state="revoked",
        definition_version=DEFINITION_VERSION,
    )
    return delegation


def describe(session: Session, delegation: Delegation) -> dict[str, Any]:
    rows = session.execute(
        select(Person.id, Person.username).where(
            Person.id.in_([delegation.delegator_id, delegation.substitute_id])
        )
    )
    names: dict[int, str] = {row.id: row.username for row in rows}
    unit = session.get(Unit, delegation.unit_id) if delegation.unit_id else None
    return {
        "id": delegation.id,
        "delegator": names[delegation.delegator_id],
        "substitute": names[delegation.substitute_id],
        "from": format_local(delegation.starts_at)[:10],
        "until": format_date(local_date(delegation.ends_at) - timedelta(days=1)),
        "unit": unit.code if unit else None,
        "revoked_at": format_local(delegation.revoked_at) if delegation.revoked_at else None,
    }


def list_for(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The delegations `principal` named or received, oldest first."""
    rows = session.scalars(
        select(Delegation)
        .where(
            (Delegation.delegator_id == principal.id) | (Delegation.substitute_id == principal.id)
        )
        .order_by(Delegation.id)
    ).all()
    return [describe(session, row) for row in rows]
