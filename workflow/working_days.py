"""Working days in Vietnam: weekends and public holidays (the `holidays` package, country VN)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

__all__ = ["is_working_day", "period_end"]


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def period_end(start: date, working_days: int) -> date:
    """The first day after a period of `working_days` that begins the working day after `start`.

    >>> period_end(date(2024, 11, 1), 10)  # published on a Friday: 4/11 … 15/11, ends 16/11
    datetime.date(2024, 11, 16)
    """
    day, counted = start, 0
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day + timedelta(days=1)
