"""Working days in Vietnam: Monday to Friday, less the public holidays the `holidays` package knows
(Tết, Hùng Kings, 30/4, 1/5, 2/9 and their observed days off).

A review time limit of N working days counts the working days after the day a nomination reached
the level; the limit ends at the end of the N-th of them, i.e. 00:00 Vietnam time of the next day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from workflow.timeutil import local_date, start_of_day

__all__ = ["is_working_day", "review_due", "working_day_after"]


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    import holidays  # imported on first use: the CLI's other commands start faster

    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def working_day_after(day: date, days: int) -> date:
    """The `days`-th working day after `day` (not counting `day` itself)."""
    if days < 1:
        raise ValueError(f"a time limit of {days} working days is not a positive number")
    found = 0
    while found < days:
        day += timedelta(days=1)
        if is_working_day(day):
            found += 1
    return day


def review_due(reached_at: datetime, days: int) -> datetime:
    """The instant (UTC) at which a review that started at `reached_at` is late."""
    return start_of_day(working_day_after(local_date(reached_at), days) + timedelta(days=1))
