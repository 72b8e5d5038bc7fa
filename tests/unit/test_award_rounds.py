"""Award rounds without a database: form → granting level → chain, the objection transition,
working days of the comment period, and the ranking with ties."""

from __future__ import annotations

from datetime import date

import pytest

from states import (
    TRANSITIONS,
    Dossier,
    InvalidTransition,
    State,
    Trigger,
    allowed_sources,
    chain_for,
    fire,
    forms_granted,
    granting_level,
)
from workflow.ranking import competition_ranks
from workflow.working_days import is_working_day, period_end

THREE = ("commune", "district", "province")
TWO = ("commune", "province")
IN_2024 = date(2024, 5, 1)
IN_2026 = date(2026, 5, 1)


@pytest.mark.parametrize(
    ("form", "on", "tiers", "ceiling", "level"),
    [
        ("Giấy khen", IN_2024, THREE, "province", "district"),
        ("Giấy khen", IN_2024, THREE, "district", "district"),
        ("Giấy khen", IN_2024, THREE, "commune", "commune"),
        ("Lao động tiên tiến", IN_2024, THREE, "district", "district"),
        ("Chiến sĩ thi đua cơ sở", IN_2024, THREE, "province", "district"),
        ("Tập thể lao động tiên tiến", IN_2024, THREE, "district", "district"),
        ("Bằng khen", IN_2024, THREE, "province", "province"),
        ("Cờ thi đua", IN_2024, THREE, "province", "province"),
        ("Chiến sĩ thi đua cấp tỉnh", IN_2024, THREE, "province", "province"),
        ("Tập thể lao động xuất sắc", IN_2024, THREE, "province", "province"),
        ("Bằng khen", IN_2026, TWO, "province", "province"),
        ("Chiến sĩ thi đua cơ sở", IN_2026, TWO, "province", "commune"),
        ("Tập thể lao động tiên tiến", IN_2026, TWO, "province", "commune"),
        ("Giấy khen", IN_2026, TWO, "province", "commune"),
    ],
)
def test_the_form_fixes_its_granting_level_for_the_campaigns_date(
    form: str, on: date, tiers: tuple[str, ...], ceiling: str, level: str
) -> None:
    assert granting_level(form, on, tiers, ceiling) == level


@pytest.mark.parametrize(
    ("unit_level", "form", "on", "tiers", "chain"),
    [
        ("commune", "Bằng khen", IN_2024, THREE, THREE),
        ("commune", "Giấy khen", IN_2024, THREE, ("commune", "district")),
        ("province", "Bằng khen", IN_2024, THREE, ("province",)),
        ("commune", "Bằng khen", IN_2026, TWO, TWO),
        ("commune", "Chiến sĩ thi đua cơ sở", IN_2026, TWO, ("commune",)),
    ],
)
def test_the_granting_level_is_the_top_of_the_chain(
    unit_level: str, form: str, on: date, tiers: tuple[str, ...], chain: tuple[str, ...]
) -> None:
    assert chain_for(unit_level, granting_level(form, on, tiers, "province"), tiers) == chain


def test_a_form_no_level_up_to_the_ceiling_grants_or_an_unknown_form_is_refused() -> None:
    with pytest.raises(ValueError, match="no level up to 'district' grants 'Bằng khen'"):
        granting_level("Bằng khen", IN_2024, THREE, "district")
    with pytest.raises(ValueError, match="not an award form"):
        granting_level("Huân chương Lao động", IN_2024, THREE, "province")


def test_the_district_grants_nothing_from_the_first_of_july_2025() -> None:
    assert "Chiến sĩ thi đua cơ sở" in forms_granted("district", date(2025, 6, 30))
    assert forms_granted("district", date(2025, 7, 1)) == frozenset()
    assert "Chiến sĩ thi đua cơ sở" not in forms_granted("commune", date(2025, 6, 30))
    assert "Chiến sĩ thi đua cơ sở" in forms_granted("commune", date(2025, 7, 1))


@pytest.mark.parametrize(
    ("chain", "back_to"),
    [
        (THREE, State.DISTRICT_REVIEWED),
        (TWO, State.COMMUNE_REVIEWED),
        (("province",), State.REPORTED),
        (("commune", "district"), State.COMMUNE_REVIEWED),
    ],
)
def test_an_objection_sends_a_nomination_back_to_await_its_last_level(
    chain: tuple[str, ...], back_to: State
) -> None:
    dossier = Dossier(str(State.REPORTED), chain)
    for _ in chain:
        fire(dossier, Trigger.APPROVE)
    fire(dossier, Trigger.OBJECT)
    assert dossier.state == back_to
    assert dossier.awaiting == chain[-1]
    fire(dossier, Trigger.APPROVE)
    assert fire(dossier, Trigger.AWARD) == State.AWARDED


def test_an_objection_needs_the_last_level_passed() -> None:
    dossier = Dossier(str(State.COMMUNE_REVIEWED), THREE)
    with pytest.raises(InvalidTransition, match="'object' needs 'province_reviewed'"):
        fire(dossier, Trigger.OBJECT)
    assert allowed_sources(Trigger.OBJECT, Dossier(str(State.REPORTED), TWO)) == [
        "province_reviewed"
    ]
    for state in (State.AWARDED, State.RETURNED, State.REVOKED):
        with pytest.raises(InvalidTransition):
            fire(Dossier(str(state), THREE, "province"), Trigger.OBJECT)


def test_the_objection_is_a_row_of_the_transitions_table() -> None:
    rows = [row for row in TRANSITIONS if row["trigger"] == Trigger.OBJECT]
    assert {row["dest"] for row in rows} == {
        State.REPORTED,
        State.COMMUNE_REVIEWED,
        State.DISTRICT_REVIEWED,
    }


def test_ranking_gives_ties_the_same_rank_and_skips_after_them() -> None:
    totals = [("a", 80), ("b", 85), ("c", 80), ("d", 55), ("e", 80), ("f", 90)]
    assert competition_ranks(totals) == [
        (1, "f", 90),
        (2, "b", 85),
        (3, "a", 80),
        (3, "c", 80),
        (3, "e", 80),
        (6, "d", 55),
    ]
    assert competition_ranks([]) == []
    assert competition_ranks([("x", 0), ("y", 0)]) == [(1, "x", 0), (1, "y", 0)]


def test_the_comment_period_counts_working_days_past_weekends_and_holidays() -> None:
    assert not is_working_day(date(2024, 11, 2))  # Saturday
    assert not is_working_day(date(2024, 9, 2))  # Quốc khánh
    assert not is_working_day(date(2025, 1, 29))  # Tết Ất Tỵ
    assert is_working_day(date(2024, 11, 4))
    # Friday 1/11/2024: 4/11 … 15/11 are the ten days; the period ends as 16/11 begins.
    assert period_end(date(2024, 11, 1), 10) == date(2024, 11, 16)
    # Around 30/4 and 1/5 (29/4/2024 a day off in lieu): 2/5 … 15/5.
    assert period_end(date(2024, 4, 26), 10) == date(2024, 5, 16)
