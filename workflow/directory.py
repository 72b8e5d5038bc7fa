"""Units, people and their roles: the tree approvals climb and who may act where.

Units form a tree (province → district → commune/ward); an agency (a provincial department, a
district office) is attached to a unit and reviewed at that unit's level. Approver roles are held
over administrative units (UBND); an agency's nominations are signed by the unit above it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Table, bindparam, select
from sqlalchemy.orm import Session

from states import LEVELS, Level
from workflow.db import json_rows, json_value
from workflow.errors import InvalidInput, NotFound
from workflow.tables import Person, RoleGrant, Unit
from workflow.text import clean_code, clean_text, optional_text

__all__ = [
    "KINDS",
    "ROLES",
    "Grant",
    "PersonRef",
    "Placed",
    "Principal",
    "UnitRef",
    "add_person",
    "add_unit",
    "covers",
    "grant_role",
    "load_directory",
    "load_principal",
    "load_units",
    "principal_column",
    "principal_of",
    "unit_by_code",
    "vietnam_units",
]

ROLES = ("officer", "approver", "auditor", "admin")
KINDS = ("administrative", "agency")


class Placed(Protocol):
    """Anything with a place in the unit tree: a Unit row or a UnitRef."""

    @property
    def path(self) -> str: ...


def covers(scope: Placed, unit: Placed) -> bool:
    """A role over `scope` reaches `unit` when `unit` is `scope` or below it."""
    return unit.path.startswith(scope.path)


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit's values as a command reads them (not attached to any session)."""

    id: int
    code: str
    name: str
    level: str
    kind: str
    parent_id: int | None
    path: str


@dataclass(frozen=True, slots=True)
class PersonRef:
    """A person's values as a command reads them (not attached to any session)."""

    id: int
    username: str
    full_name: str
    email: str | None


@dataclass(frozen=True)
class Grant:
    role: str
    unit: UnitRef


@dataclass(frozen=True)
class Principal:
    """A person with their roles, as loaded for one command."""

    person: PersonRef
    grants: tuple[Grant, ...]

    @property
    def id(self) -> int:
        return self.person.id

    @property
    def username(self) -> str:
        return self.person.username

    def holding(self, role: str) -> list[Grant]:
        return [grant for grant in self.grants if grant.role == role]

    def scopes(self, role: str) -> str:
        held = self.holding(role)
        return ", ".join(f"{g.unit.name} ({g.unit.code})" for g in held) or "no unit"


_PERSONS: Table = Person.__table__  # type: ignore[assignment]
_GRANTS: Table = RoleGrant.__table__  # type: ignore[assignment]
_UNITS: Table = Unit.__table__  # type: ignore[assignment]
#: A person with the role and unit of each of their grants (one row each; one row of NULLs for a
#: person without any), in one Core statement built once: a command reads plain values, with no
#: ORM objects to build and track for them.
_PRINCIPAL = (
    select(
        _PERSONS.c.id,
        _PERSONS.c.username,
        _PERSONS.c.full_name,
        _PERSONS.c.email,
        _GRANTS.c.role,
        _UNITS.c.id,
        _UNITS.c.code,
        _UNITS.c.name,
        _UNITS.c.level,
        _UNITS.c.kind,
        _UNITS.c.parent_id,
        _UNITS.c.path,
    )
    .select_from(
        _PERSONS.outerjoin(_GRANTS, _GRANTS.c.person_id == _PERSONS.c.id).outerjoin(
            _UNITS, _UNITS.c.id == _GRANTS.c.unit_id
        )
    )
    .where(_PERSONS.c.username == bindparam("username"))
    .order_by(_GRANTS.c.id)
)


def load_principal(session: Session, username: str) -> Principal:
    username = clean_code(username, "person")
    rows = session.connection().execute(_PRINCIPAL, {"username": username}).all()
    if not rows:
        raise NotFound(f"no person with username '{username}'")
    return _principal(rows)


def _principal(rows: Sequence[Sequence[Any]]) -> Principal:
    """A Principal from `_PRINCIPAL`'s rows (at least one), in their order."""
    grants = tuple(
        Grant(role, UnitRef(unit_id, code, name, level, kind, parent_id, path))
        for _, _, _, _, role, unit_id, code, name, level, kind, parent_id, path in rows
        if role is not None
    )
    person_id, username, full_name, email = rows[0][:4]
    return Principal(PersonRef(person_id, username, full_name, email), grants)


def principal_column(dialect: str) -> ColumnElement[Any]:
    """`_PRINCIPAL`'s rows as one JSON array of arrays, a column to read with another statement
    (a command's nomination): one round trip instead of two. Each row leads with its grant's id,
    by which `principal_of` puts them in order. An unknown username gives NULL or []."""
    rows = _PRINCIPAL.with_only_columns(_GRANTS.c.id, *_PRINCIPAL.selected_columns).subquery()
    return select(json_rows(dialect, *rows.c)).scalar_subquery().label("principal")


def principal_of(value: Any) -> Principal | None:
    """The Principal in a `principal_column` value, or None for an unknown username."""
    rows = json_value(value)
    if not rows:
        return None
    return _principal([row[1:] for row in sorted(rows, key=_grant_order)])


def _grant_order(row: Sequence[Any]) -> int:
    return -1 if row[0] is None else int(row[0])


_UNIT_BY_CODE = select(Unit).where(Unit.code == bindparam("code"))


def unit_by_code(session: Session, code: str, field: str = "unit") -> Unit:
    code = clean_code(code, field)
    unit = session.scalars(_UNIT_BY_CODE, {"code": code}).one_or_none()
    if unit is None:
        raise NotFound(f"no unit with code '{code}'")
    return unit


def add_unit(
    session: Session,
    code: str,
    name: str,
    level: str,
    parent: str | None = None,
    kind: str = "administrative",
    known: dict[str, Unit] | None = None,
) -> Unit:
    """Add a unit under `parent`; `known` caches units by code across a bulk load."""
    known = {} if known is None else known
    code = clean_code(code, "unit code")
    name = clean_text(name, "unit name")
    if level not in LEVELS:
        raise InvalidInput(f"unit level '{level}' is not one of {', '.join(LEVELS)}")
    if kind not in KINDS:
        raise InvalidInput(f"unit kind '{kind}' is not one of {', '.join(KINDS)}")
    if code in known or session.scalars(select(Unit.id).where(Unit.code == code)).first():
        raise InvalidInput(f"a unit with code '{code}' exists already")
    parent_unit = None
    if parent:
        parent_unit = known.get(parent) or unit_by_code(session, parent, "parent unit")
    if parent_unit is None and kind == "agency":
        raise InvalidInput(f"agency '{code}' needs the unit it is attached to (parent)")
    if parent_unit is not None:
        rank, parent_rank = (
            LEVELS.index(Level(level)),
            LEVELS.index(Level(parent_unit.level)),
        )
        if kind == "agency" and rank != parent_rank:
            raise InvalidInput(
                f"agency '{code}' is attached to {parent_unit.name} and so sits at level "
                f"'{parent_unit.level}', not '{level}'"
            )
        if kind == "administrative" and rank >= parent_rank:
            raise InvalidInput(
                f"unit '{code}' at level '{level}' cannot sit under {parent_unit.name} "
                f"at level '{parent_unit.level}'"
            )
        if parent_unit.kind == "agency":
            raise InvalidInput(f"unit '{code}' cannot sit under agency {parent_unit.name}")
    unit = Unit(
        code=code,
        name=name,
        level=level,
        kind=kind,
        parent_id=parent_unit.id if parent_unit else None,
        path="",
    )
    session.add(unit)
    session.flush()
    unit.path = (parent_unit.path if parent_unit else "/") + f"{unit.id}/"
    known[code] = unit
    return unit


def load_units(
    session: Session,
    records: Iterable[Mapping[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add units in order (a parent before its children); returns how many."""
    known: dict[str, Unit] = {}
    count = 0
    for record in records:
        add_unit(
            session,
            _need(record, "code", "units"),
            _need(record, "name", "units"),
            _need(record, "level", "units"),
            record.get("parent"),
            record.get("kind", "administrative"),
            known,
        )
        count += 1
        if progress is not None and count % 500 == 0:
            progress(count)
    return count


def add_person(session: Session, username: str, full_name: str, email: str | None = None) -> Person:
    username = clean_code(username, "username")
    if session.scalars(select(Person.id).where(Person.username == username)).first() is not None:
        raise InvalidInput(f"a person with username '{username}' exists already")
    email = optional_text(email, "e-mail", "name")
    if email is not None and "@" not in email:
        raise InvalidInput(f"e-mail '{email}' is not an e-mail address")
    person = Person(username=username, full_name=clean_text(full_name, "full name"), email=email)
    session.add(person)
    session.flush()
    return person


def grant_role(session: Session, username: str, role: str, unit_code: str) -> RoleGrant:
    if role not in ROLES:
        raise InvalidInput(f"role '{role}' is not one of {', '.join(ROLES)}")
    principal = load_principal(session, username)
    unit = unit_by_code(session, unit_code)
    if role == "approver" and unit.kind == "agency":
        raise InvalidInput(
            f"approvers sign for administrative units; {unit.name} is an agency — grant the "
            "approver role over the unit it is attached to"
        )
    if any(g.role == role and g.unit.id == unit.id for g in principal.grants):
        raise InvalidInput(f"{principal.username} is {role} of {unit.code} already")
    grant = RoleGrant(person_id=principal.id, role=role, unit_id=unit.id)
    session.add(grant)
    session.flush()
    return grant


def load_directory(session: Session, data: Mapping[str, Any]) -> dict[str, int]:
    """Add the [[units]] and [[people]] of a loaded file; returns how many of each."""
    units = _records(data, "units")
    people = _records(data, "people")
    load_units(session, units)
    for record in people:
        username = _need(record, "username", "people")
        add_person(session, username, _need(record, "name", "people"), record.get("email"))
        for grant in record.get("roles", []):
            if not isinstance(grant, Mapping):
                raise InvalidInput(f"people '{username}': each role is a table with role and unit")
            grant_role(
                session,
                username,
                _need(grant, "role", "roles"),
                _need(grant, "unit", "roles"),
            )
    return {"units": len(units), "people": len(people)}


def _records(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    records = data.get(key, [])
    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise InvalidInput(f"'{key}' must be a list of tables ([[{key}]])")
    return records


def _need(record: Mapping[str, Any], key: str, section: str) -> Any:
    if key not in record:
        raise InvalidInput(f"an entry of [[{section}]] has no '{key}'")
    return record[key]


def vietnam_units(province_code: int | None = None) -> Iterable[dict[str, str]]:
    """Today's two-tier units (34 provinces, their communes and wards) from `vietnam-provinces`."""
    from vietnam_provinces import Province, ProvinceCode, Ward

    provinces = (
        [Province.from_code(ProvinceCode(province_code))]
        if province_code is not None
        else list(Province.iter_all())
    )
    for province in provinces:
        code = f"{int(province.code):02d}"
        yield {"code": code, "name": province.name, "level": "province"}
        for ward in Ward.iter_by_province(province.code):
            yield {
                "code": f"{int(ward.code):05d}",
                "name": ward.name,
                "level": "commune",
                "parent": code,
            }
