"""Vietnam time: deadlines are instants in Asia/Ho_Chi_Minh, stored UTC, shown dd/mm/yyyy.

"Trước ngày 05/5/2022" (before 05/05/2022) means accepted until 2022-05-05 00:00 +07:00.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from workflow.errors import InvalidInput

__all__ = [
    "VIETNAM",
    "as_utc",
    "format_date",
    "format_local",
    "local_date",
    "parse_date",
    "parse_instant",
    "start_of_day",
]

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_INSTANT = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_date(text: str, field: str = "date") -> date:
    """Parse dd/mm/yyyy (day and month may have one digit, as in "05/5/2022")."""
    match = _DATE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise InvalidInput(f"{field} '{text}' is not a date in the form dd/mm/yyyy")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidInput(f"{field} '{text}' is not a real day: {exc}") from exc


def parse_instant(text: str, field: str = "time") -> datetime:
    """Parse dd/mm/yyyy[ HH:MM[:SS]] in Vietnam time into an aware UTC instant."""
    match = _INSTANT.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise InvalidInput(f"{field} '{text}' is not in the form dd/mm/yyyy or dd/mm/yyyy HH:MM")
    day, month, year, hour, minute, second = match.groups()
    try:
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=VIETNAM,
        )
    except ValueError as exc:
        raise InvalidInput(f"{field} '{text}' is not a real instant: {exc}") from exc
    return local.astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """00:00 Vietnam time of `day`, as an aware UTC instant: the cut-off of "before `day`"."""
    return datetime.combine(day, time(0), tzinfo=VIETNAM).astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one (as SQLite returns) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The calendar day in Vietnam at `moment`."""
    return as_utc(moment).astimezone(VIETNAM).date()


def format_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def format_local(moment: datetime, seconds: bool = False) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time."""
    return (
        as_utc(moment)
        .astimezone(VIETNAM)
        .strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    )
