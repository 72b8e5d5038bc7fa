"""`states.fire` answers from what the shared machine answered before: prove it never differs.

The reference below attaches a fresh dossier to `states.MACHINE` for every call, as `fire` did
before it remembered answers, and the test compares both over every chain a campaign can give,
every state, every level a dossier can have been returned from, every return count and every
trigger — each asked twice, so the second answer comes from what `fire` remembered.
"""

from __future__ import annotations

from itertools import combinations

import pytest
from transitions import MachineError

from states import LEVELS, MACHINE, Dossier, InvalidTransition, State, fire

CHAINS = [
    tuple(str(level) for level in chosen)
    for size in range(1, len(LEVELS) + 1)
    for chosen in combinations(LEVELS, size)
]
TRIGGERS = sorted(MACHINE.events)


def machine_answer(dossier: Dossier, trigger: str) -> tuple[str, str | None, int] | None:
    probe = Dossier(dossier.state, dossier.chain, dossier.returned_level, dossier.returns)
    MACHINE.add_model(probe, initial=probe.state)
    try:
        done = probe.trigger(trigger)  # type: ignore[attr-defined]
    except MachineError:
        done = False
    finally:
        MACHINE.remove_model(probe)
    return (probe.state, probe.returned_level, probe.returns) if done else None


def fire_answer(dossier: Dossier, trigger: str) -> tuple[str, str | None, int] | None:
    probe = Dossier(dossier.state, dossier.chain, dossier.returned_level, dossier.returns)
    try:
        returned = fire(probe, trigger)
    except InvalidTransition:
        assert (probe.state, probe.returned_level, probe.returns) == (
            dossier.state,
            dossier.returned_level,
            dossier.returns,
        )
        return None
    assert returned == probe.state
    return probe.state, probe.returned_level, probe.returns


def test_fire_gives_the_machines_answer_for_every_chain_state_history_and_trigger() -> None:
    compared = allowed = 0
    for chain in CHAINS:
        for state in State:
            for returned_level in (None, *chain):
                for returns in (0, 1, 2):
                    dossier = Dossier(str(state), chain, returned_level, returns)
                    for trigger in TRIGGERS:
                        expected = machine_answer(dossier, trigger)
                        assert fire_answer(dossier, trigger) == expected, (dossier, trigger)
                        assert fire_answer(dossier, trigger) == expected, (dossier, trigger)
                        compared += 1
                        allowed += expected is not None
    assert compared == sum(len(State) * (len(c) + 1) * 3 * len(TRIGGERS) for c in CHAINS)
    assert 0 < allowed < compared
    assert not MACHINE.models


def test_a_refused_trigger_names_the_states_it_needs_whether_answered_first_or_again() -> None:
    for _ in range(2):
        dossier = Dossier("reported", ("commune", "district"))
        with pytest.raises(InvalidTransition) as refused:
            fire(dossier, "award")
        assert refused.value.needs == ["district_reviewed"]
        assert dossier.state == "reported"
