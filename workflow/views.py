"""What queries return: plain, frozen views with a JSON form for scripts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from workflow.timeutil import format_date, format_local

__all__ = ["EntryView", "NominationView", "jsonable"]


def jsonable(value: Any) -> Any:
    """Dates as dd/mm/yyyy and instants as ISO 8601 UTC, recursively."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


@dataclass(frozen=True)
class NominationView:
    id: int
    campaign: str
    unit: str
    unit_name: str
    proposer: str
    nominee_kind: str
    nominee_name: str
    title: str
    area: str
    state: str
    awaiting: str | None
    chain: tuple[str, ...]
    returns: int
    award_number: str | None
    award_date: date | None
    award_form: str | None
    updated_at: datetime
    version: int

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(asdict(self))
        data["updated_at_local"] = format_local(self.updated_at)
        return data


@dataclass(frozen=True)
class EntryView:
    seq: int
    at: datetime
    actor: str
    role: str
    unit: str | None
    trigger: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    payload: dict[str, Any]
    hash: str

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = jsonable(asdict(self))
        data["at_local"] = format_local(self.at, seconds=True)
        return data
