"""The state model alone: chains, the transitions table, rules and replay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from states import (
    MACHINE,
    Dossier,
    InvalidTransition,
    RuleViolation,
    State,
    Trigger,
    allowed_sources,
    chain_for,
    check_return_once,
    check_separation_of_duties,
    fire,
    forms_granted,
    replay,
)

THREE = ("commune", "district", "province")
TWO = ("commune", "province")


@pytest.mark.parametrize(
    ("unit_level", "award_level", "tiers", "chain"),
    [
        ("commune", "district", THREE, ("commune", "district")),
        ("district", "district", THREE, ("district",)),
        ("province", "province", THREE, ("province",)),
        ("commune", "province", THREE, THREE),
        ("commune", "province", TWO, TWO),
    ],
)
def test_chain_runs_from_the_unit_level_to_the_award_level(
    unit_level: str, award_level: str, tiers: tuple[str, ...], chain: tuple[str, ...]
) -> None:
    assert chain_for(unit_level, award_level, tiers) == chain


def test_chain_refuses_a_unit_above_the_award_level_or_outside_the_tiers() -> None:
    with pytest.raises(ValueError, match="sits above"):
        chain_for("province", "district", THREE)
    with pytest.raises(ValueError, match="not one of the campaign's tiers"):
        chain_for("district", "province", TWO)


def test_machine_is_shared_and_holds_no_model_between_triggers() -> None:
    dossier = Dossier("registered", ("commune", "district"))
    fire(dossier, Trigger.IMPLEMENT)
    assert dossier.state == State.IMPLEMENTED
    assert dossier not in MACHINE.models
    assert not MACHINE.auto_transitions


def walk(chain: tuple[str, ...], *triggers: str) -> Dossier:
    dossier = Dossier("registered", chain)
    for trigger in triggers:
        fire(dossier, trigger)
    return dossier


def test_approve_follows_the_chain_of_the_nomination() -> None:
    dossier = walk(("commune", "province"), "implement", "report", "approve")
    assert dossier.state == State.COMMUNE_REVIEWED
    assert dossier.awaiting == "province"
    fire(dossier, "approve")
    assert dossier.state == State.PROVINCE_REVIEWED
    assert dossier.awaiting is None


def test_award_is_allowed_only_after_the_last_level() -> None:
    dossier = walk(THREE, "implement", "report", "approve", "approve")
    with pytest.raises(InvalidTransition) as refused:
        fire(dossier, "award")
    assert refused.value.needs == ["province_reviewed"]
    assert "district_reviewed" in str(refused.value)
    fire(dossier, "approve")
    fire(dossier, "award")
    assert dossier.state == State.AWARDED


def test_a_single_level_chain_awards_after_one_sign_off() -> None:
    dossier = walk(("district",), "implement", "report", "approve", "award")
    assert dossier.state == State.AWARDED


def test_resubmit_goes_back_to_the_level_that_returned_it() -> None:
    dossier = walk(THREE, "implement", "report", "approve", "approve", "return")
    assert (dossier.state, dossier.returned_level, dossier.returns) == ("returned", "province", 1)
    fire(dossier, "resubmit")
    assert dossier.state == State.DISTRICT_REVIEWED
    assert dossier.awaiting == "province"
    assert dossier.returned_level is None

    first = walk(THREE, "implement", "report", "return", "resubmit")
    assert first.state == State.REPORTED
    assert first.awaiting == "commune"


def test_a_nomination_is_returned_only_once() -> None:
    dossier = walk(THREE, "implement", "report", "return", "resubmit")
    with pytest.raises(InvalidTransition):
        fire(dossier, "return")
    assert dossier.state == State.REPORTED


def test_final_states_refuse_every_trigger_but_revoke_after_award() -> None:
    for final, path in {
        State.REJECTED: ("implement", "report", "reject"),
        State.WITHDRAWN: ("withdraw",),
        State.EXPIRED: ("expire",),
    }.items():
        dossier = walk(("commune",), *path)
        assert dossier.state == final
        for trigger in Trigger:
            if trigger == Trigger.REGISTER:
                continue
            with pytest.raises(InvalidTransition):
                fire(dossier, trigger)
    awarded = walk(("commune",), "implement", "report", "approve", "award")
    assert allowed_sources("revoke", awarded) == ["awarded"]
    fire(awarded, "revoke")
    assert awarded.state == State.REVOKED


def test_expire_applies_only_before_the_report() -> None:
    assert walk(THREE, "expire").state == State.EXPIRED
    assert walk(THREE, "implement", "expire").state == State.EXPIRED
    with pytest.raises(InvalidTransition):
        walk(THREE, "implement", "report", "expire")


def test_separation_of_duties() -> None:
    check_separation_of_duties(7, "district", proposer=1, nominee=2, signoffs={"commune": [5]})
    with pytest.raises(RuleViolation, match="proposer"):
        check_separation_of_duties(1, "commune", proposer=1, nominee=None, signoffs={})
    with pytest.raises(RuleViolation, match="nominee"):
        check_separation_of_duties(2, "commune", proposer=1, nominee=2, signoffs={})
    with pytest.raises(RuleViolation, match="already signed at level 'commune'") as refused:
        check_separation_of_duties(
            5, "district", proposer=1, nominee=None, signoffs={"commune": [5]}
        )
    assert refused.value.rule == "separation_of_duties"


def test_return_once_rule() -> None:
    check_return_once(0)
    with pytest.raises(RuleViolation) as refused:
        check_return_once(1)
    assert refused.value.rule == "return_once"


def test_forms_granted_follow_the_level() -> None:
    from datetime import date

    assert "Giấy khen" in forms_granted("district", date(2022, 12, 12))
    assert "Bằng khen" not in forms_granted("district", date(2022, 12, 12))
    assert "Bằng khen" in forms_granted("province", date(2024, 3, 1))
    assert forms_granted("department", date(2024, 3, 1)) == forms_granted(
        "district", date(2024, 3, 1)
    )


def entries_for(chain: tuple[str, ...], triggers: list[str]) -> list[dict[str, object]]:
    dossier = Dossier("registered", chain)
    entries: list[dict[str, object]] = [
        {
            "seq": 1,
            "trigger": "register",
            "from_state": None,
            "to_state": "registered",
            "payload": {"chain": list(chain)},
        }
    ]
    for trigger in triggers:
        before = dossier.state
        fire(dossier, trigger)
        entries.append(
            {
                "seq": len(entries) + 1,
                "trigger": trigger,
                "from_state": before,
                "to_state": dossier.state,
                "payload": {},
            }
        )
    return entries


def test_replay_rebuilds_the_state_and_names_disagreements() -> None:
    entries = entries_for(THREE, ["implement", "report", "approve", "return", "resubmit"])
    result = replay(entries)
    assert result.mismatches == []
    assert result.dossier is not None
    assert result.dossier.state == "commune_reviewed"

    tampered = [dict(entry) for entry in entries]
    tampered[3]["to_state"] = "province_reviewed"
    assert replay(tampered).mismatches[0].startswith("entry 4: says to 'province_reviewed'")
    skipped = entries[:2] + entries[3:]
    assert any(
        "refused by the state model" in m or "says from" in m for m in replay(skipped).mismatches
    )


TRIGGERS = [t.value for t in Trigger if t not in (Trigger.REGISTER,)]


@given(
    chain=st.sampled_from([THREE, TWO, ("commune", "district"), ("district",), ("province",)]),
    triggers=st.lists(st.sampled_from(TRIGGERS), max_size=30),
)
def test_no_sequence_awards_without_every_level_and_replay_agrees(
    chain: tuple[str, ...], triggers: list[str]
) -> None:
    dossier = Dossier("registered", chain)
    history: list[str] = []
    approved: list[str] = []
    for trigger in triggers:
        awaiting = dossier.awaiting
        try:
            fire(dossier, trigger)
        except InvalidTransition:
            continue
        history.append(trigger)
        if trigger == "approve":
            approved.append(awaiting or "")
        if dossier.state == State.AWARDED:
            # every level of the chain signed, in order (a return re-opens one level at most)
            assert list(dict.fromkeys(approved)) == list(chain)
    result = replay(entries_for(chain, history))
    assert result.mismatches == []
    assert result.dossier is not None
    assert result.dossier.state == dossier.state


def test_replay_takes_an_annotation_that_keeps_the_state() -> None:
    entries = [
        {
            "seq": 1,
            "trigger": "register",
            "from_state": None,
            "to_state": "registered",
            "payload": {"chain": ["commune", "district"]},
        },
        {
            "seq": 2,
            "trigger": "mark_overdue",
            "from_state": "registered",
            "to_state": "registered",
            "payload": {},
        },
        {
            "seq": 3,
            "trigger": "implement",
            "from_state": "registered",
            "to_state": "implemented",
            "payload": {},
        },
    ]
    result = replay(entries)
    assert result.mismatches == []
    assert result.dossier is not None and result.dossier.state == "implemented"


def test_replay_names_an_annotation_that_claims_a_change_of_state() -> None:
    entries = [
        {
            "seq": 1,
            "trigger": "register",
            "from_state": None,
            "to_state": "registered",
            "payload": {"chain": ["commune"]},
        },
        {
            "seq": 2,
            "trigger": "scored",
            "from_state": "registered",
            "to_state": "awarded",
            "payload": {},
        },
    ]
    result = replay(entries)
    assert result.mismatches == ["entry 2: says to 'awarded', replay gives 'registered'"]
