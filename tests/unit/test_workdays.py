"""Working days in Vietnam and the review time limit's end, from the `holidays` package."""

from __future__ import annotations

from datetime import date, datetime

from states import MACHINE, Dossier, Trigger, allowed_sources
from workflow.expiry import EXPIRABLE
from workflow.reminders import due_offsets
from workflow.timeutil import VIETNAM
from workflow.workdays import is_working_day, review_due, working_day_after


def test_tet_2024_and_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2024, 2, 10))  # Mùng 1 Tết Giáp Thìn, a Saturday
    assert not is_working_day(date(2024, 2, 12))  # Mùng 3, a Monday
    assert not is_working_day(date(2024, 2, 14))  # the last day off, a Wednesday
    assert not is_working_day(date(2024, 2, 17))  # a Saturday
    assert is_working_day(date(2024, 2, 15))


def test_ten_working_days_from_before_tet_2024_skip_the_holiday_and_weekends() -> None:
    # Friday 02/02/2024: 5, 6, 7 Feb; Tết 8–14 Feb; 15, 16; 19–23 Feb is the tenth.
    assert working_day_after(date(2024, 2, 2), 10) == date(2024, 2, 23)


def test_a_review_reached_before_tet_2026_is_late_at_midnight_after_its_last_working_day() -> None:
    reached = datetime(2026, 2, 13, 16, 30, tzinfo=VIETNAM)  # Friday before Tết Bính Ngọ
    # Weekend 14–15, Tết 16–20, weekend 21–22: the 3rd working day is Wednesday 25/02.
    assert review_due(reached, 3) == datetime(2026, 2, 26, 0, 0, tzinfo=VIETNAM)


def test_a_review_reached_on_a_friday_evening_counts_from_monday() -> None:
    reached = datetime(2022, 11, 18, 23, 0, tzinfo=VIETNAM)
    assert review_due(reached, 1) == datetime(2022, 11, 22, 0, 0, tzinfo=VIETNAM)


def test_the_sweep_expires_exactly_the_states_the_state_model_lets_expire() -> None:
    assert Trigger.EXPIRE in MACHINE.events
    probe = Dossier("registered", ("commune", "district"))
    assert set(allowed_sources(Trigger.EXPIRE, probe)) == set(EXPIRABLE)


def test_only_the_reminders_whose_instant_passed_before_the_deadline_are_due() -> None:
    deadline = datetime(2022, 12, 1, 0, 0, tzinfo=VIETNAM)
    assert due_offsets(deadline, [7, 1], datetime(2022, 11, 23, 23, 59, tzinfo=VIETNAM)) == []
    late = due_offsets(deadline, [7, 1], datetime(2022, 11, 30, tzinfo=VIETNAM))
    assert [days for days, _ in late] == [1, 7]
    assert due_offsets(deadline, [7, 1], deadline) == []
