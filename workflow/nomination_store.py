"""A nomination's row as a command reads and writes it, with statements built once.

`load_for` reads, in one statement, what a nomination command needs before its rules run: the
nomination with its unit, campaign and proposer's username, the acting person's roles, whether
the campaign has a council (which spares most commands their council lookups) and the approvers
over the nomination's unit (whom a transition may tell); `load_with_proposer` reads the
nomination alone. `save` writes what a command changed in one UPDATE guarded by the version the
row was read with, so a row another command changed meanwhile is a conflict, never overwritten;
`add` writes a new one with one INSERT. All reuse their compiled form on every command, where
building and compiling them anew (and letting the session's unit of work find and write the
changes) cost most of a command's time.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, Table, bindparam, exists, insert, inspect, select, update
from sqlalchemy.orm import Session, aliased, contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import get_history, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflow.councils import note_no_councils
from workflow.directory import Principal, load_principal, principal_column, principal_of
from workflow.errors import NotFound
from workflow.notify import approvers_column, note_approvers
from workflow.tables import Campaign, Council, Nomination, Person, Unit
from workflow.text import clean_code

__all__ = ["add", "load_for", "load_with_proposer", "save"]

_PROPOSER = aliased(Person, name="proposer")
#: A nomination with its unit, its campaign, its proposer's username and whether its campaign has
#: a council, in one statement built once (so each command reuses its compiled form).
_LOAD = (
    select(
        Nomination,
        _PROPOSER.username,
        exists().where(Council.campaign_id == Nomination.campaign_id).label("has_councils"),
    )
    .join(Nomination.unit)
    .join(Nomination.campaign)
    .join(_PROPOSER, Nomination.proposer_id == _PROPOSER.id)
    .options(contains_eager(Nomination.unit), contains_eager(Nomination.campaign))
    .where(Nomination.id == bindparam("nomination_id"))
)


@functools.cache
def _load_for(dialect: str) -> Select[Any]:
    """`_LOAD` with the acting person's principal and the approvers over the nomination's unit
    beside it (`directory.principal_column`, `notify.approvers_column`)."""
    return _LOAD.add_columns(principal_column(dialect), approvers_column(dialect))


def load_for(
    session: Session, username: str, nomination_id: int
) -> tuple[Principal, Nomination, str]:
    """The acting person, the nomination and its proposer's username, in one statement.

    When either is unknown, they are read again one after the other, so the answer names the
    person first, as `load_principal` and `load_with_proposer` would."""
    username = clean_code(username, "person")
    statement = _load_for(session.get_bind().dialect.name)
    row = session.execute(
        statement, {"nomination_id": nomination_id, "username": username}
    ).one_or_none()
    principal = principal_of(row.principal) if row is not None else None
    if row is None or principal is None:
        principal = load_principal(session, username)
        return (principal, *load_with_proposer(session, nomination_id))
    nomination, proposer, has_councils, _, approvers = row
    if not has_councils:
        note_no_councils(session, nomination.campaign_id)
    note_approvers(session, nomination.unit_id, approvers)
    return principal, nomination, proposer


_TABLE: Table = Nomination.__table__  # type: ignore[assignment]
#: What a command may change on a nomination: `_save` writes these with one UPDATE built once.
_CHANGING = (
    "state",
    "awaiting",
    "returned_level",
    "returns",
    "signoffs",
    "award_number",
    "award_date",
    "award_form",
    "updated_at",
    "version",
    "last_hash",
)
_CHANGING_KEYS = frozenset(_CHANGING)
_SAVE = update(_TABLE).where(
    _TABLE.c.id == bindparam("saved_id"), _TABLE.c.version == bindparam("loaded_version")
)


#: A new nomination's row, its id returned: built once.
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
_COLUMNS = tuple(column.key for column in _TABLE.columns if column.key != "id")


def add(session: Session, nomination: Nomination, unit: Unit, campaign: Campaign) -> None:
    """Write a new nomination (every column but its id set) with one INSERT at once, and make it
    the session's as if it had been read: no flush at commit, no second look at the row. Its
    unit and campaign are set as loaded, not as changes."""
    values = {key: getattr(nomination, key) for key in _COLUMNS}
    nomination.id = session.connection().execute(_INSERT, values).scalar_one()
    set_committed_value(nomination, "unit", unit)
    set_committed_value(nomination, "campaign", campaign)
    make_transient_to_detached(nomination)
    session.add(nomination)


def save(session: Session, nomination: Nomination) -> None:
    """Write the nomination's changing columns with one UPDATE guarded by its stored version.

    The version is the one it was loaded (or last saved) with: a row another command changed
    meanwhile updates nothing, which is a StaleDataError, as the session's flush would raise.
    The written values become the session's committed state, so its flush leaves the row alone
    (and still writes anything else a caller changed on it, guarded by the new version). When
    nothing else changed, the whole object is marked committed (SQLAlchemy has no public call
    for it): otherwise the session would still see it as modified and run a flush at commit that
    writes nothing.
    """
    history = get_history(nomination, "version")
    stored = (history.deleted or history.unchanged or [nomination.version])[0]
    values = {key: getattr(nomination, key) for key in _CHANGING}
    written = session.connection().execute(
        _SAVE, {"saved_id": nomination.id, "loaded_version": stored, **values}
    )
    if written.rowcount != 1:
        raise StaleDataError(
            f"nomination {nomination.id} is no longer at version {stored}; another command "
            "changed it"
        )
    state = inspect(nomination)
    if state.committed_state.keys() <= _CHANGING_KEYS:  # nothing else changed: nothing to flush
        state._commit_all(state.dict, session.identity_map)  # also clears the "modified" mark
    else:
        for key, value in values.items():
            set_committed_value(nomination, key, value)


def load_with_proposer(session: Session, nomination_id: int) -> tuple[Nomination, str]:
    """The nomination (with its unit and campaign) and its proposer's username, or NotFound."""
    row = session.execute(_LOAD, {"nomination_id": nomination_id}).one_or_none()
    if row is None:
        raise NotFound(f"no nomination with id {nomination_id}")
    nomination, proposer, has_councils = row
    if not has_councils:
        note_no_councils(session, nomination.campaign_id)
    return nomination, proposer
