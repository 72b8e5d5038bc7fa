"""The transitions table, as data, driven by one shared `transitions.Machine`.

The machine holds no model of its own (`model=None`): a `Dossier` — the part of a nomination the
state model needs — is attached for one trigger and detached again, so one machine serves every
nomination of every thread without a machine per row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine, MachineError

from states.errors import InvalidTransition
from states.model import (
    LEVELS,
    REVIEW_STATES,
    State,
    Trigger,
    awaiting_level,
    review_state,
    state_awaiting,
)

__all__ = ["MACHINE", "TRANSITIONS", "Dossier", "allowed_sources", "fire"]


@dataclass(eq=False)
class Dossier:
    """What the state model knows of a nomination: its state, chain and return history."""

    state: str
    chain: tuple[str, ...]
    returned_level: str | None = None
    returns: int = 0

    @property
    def awaiting(self) -> str | None:
        """The level whose review the nomination waits for, or None."""
        return awaiting_level(self.state, self.chain)


Condition = Callable[[EventData], bool]


def _model(event: EventData) -> Dossier:
    model = event.model
    assert isinstance(model, Dossier)
    return model


def _awaits(level: str) -> Condition:
    def condition(event: EventData) -> bool:
        return bool(_model(event).awaiting == level)

    condition.__name__ = f"awaits_{level}"
    return condition


def _awaits_review(event: EventData) -> bool:
    return _model(event).awaiting is not None


def _never_returned(event: EventData) -> bool:
    return bool(_model(event).returns == 0)


def _passed_last_level(event: EventData) -> bool:
    model = _model(event)
    return model.state == review_state(model.chain[-1])


def _returned_to(state: str) -> Condition:
    def condition(event: EventData) -> bool:
        model = _model(event)
        return model.returned_level is not None and (
            state_awaiting(model.returned_level, model.chain) == state
        )

    condition.__name__ = f"returned_to_{state}"
    return condition


def _last_level_awaited_from(state: str) -> Condition:
    def condition(event: EventData) -> bool:
        model = _model(event)
        return state_awaiting(model.chain[-1], model.chain) == state

    condition.__name__ = f"last_level_awaited_from_{state}"
    return condition


def _record_return(event: EventData) -> None:
    model = _model(event)
    model.returned_level = model.awaiting
    model.returns += 1


def _clear_return(event: EventData) -> None:
    _model(event).returned_level = None


_AWAITING_REVIEW: list[str] = [
    State.REPORTED,
    *(REVIEW_STATES[level] for level in LEVELS[:-1]),
]
_REVIEWED: list[str] = list(REVIEW_STATES.values())

TRANSITIONS: list[dict[str, Any]] = [
    {
        "trigger": Trigger.IMPLEMENT,
        "source": State.REGISTERED,
        "dest": State.IMPLEMENTED,
    },
    {"trigger": Trigger.REPORT, "source": State.IMPLEMENTED, "dest": State.REPORTED},
    *(
        {
            "trigger": Trigger.APPROVE,
            "source": _AWAITING_REVIEW,
            "dest": REVIEW_STATES[level],
            "conditions": [_awaits(level)],
        }
        for level in LEVELS
    ),
    {
        "trigger": Trigger.RETURN,
        "source": _AWAITING_REVIEW,
        "dest": State.RETURNED,
        "conditions": [_awaits_review, _never_returned],
        "before": _record_return,
    },
    *(
        {
            "trigger": Trigger.RESUBMIT,
            "source": State.RETURNED,
            "dest": dest,
            "conditions": [_returned_to(dest)],
            "before": _clear_return,
        }
        for dest in _AWAITING_REVIEW
    ),
    {
        "trigger": Trigger.REJECT,
        "source": _AWAITING_REVIEW,
        "dest": State.REJECTED,
        "conditions": [_awaits_review],
    },
    {
        "trigger": Trigger.WITHDRAW,
        "source": [
            State.REGISTERED,
            State.IMPLEMENTED,
            State.RETURNED,
            *_AWAITING_REVIEW,
            *_REVIEWED,
        ],
        "dest": State.WITHDRAWN,
    },
    {
        "trigger": Trigger.AWARD,
        "source": _REVIEWED,
        "dest": State.AWARDED,
        "conditions": [_passed_last_level],
    },
    {
        "trigger": Trigger.EXPIRE,
        "source": [State.REGISTERED, State.IMPLEMENTED],
        "dest": State.EXPIRED,
    },
    {"trigger": Trigger.REVOKE, "source": State.AWARDED, "dest": State.REVOKED},
    # Public comment: an objection sends a nomination that passed its last level back to the
    # state in which it awaits that level's review again.
    *(
        {
            "trigger": Trigger.OBJECT,
            "source": _REVIEWED,
            "dest": dest,
            "conditions": [_passed_last_level, _last_level_awaited_from(dest)],
        }
        for dest in _AWAITING_REVIEW
    ),
]


def _plain(value: Any) -> Any:
    """Enum members as their text: `transitions` would name an Enum state by its member name."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, State | Trigger) else value


MACHINE = Machine(
    model=None,
    states=[str(state) for state in State],
    transitions=[{key: _plain(value) for key, value in row.items()} for row in TRANSITIONS],
    initial=None,
    auto_transitions=False,
    send_event=True,
)
# add_model/remove_model mutate the machine's model list; serialise them across threads.
_ATTACH = threading.Lock()


def allowed_sources(trigger: str, dossier: Dossier) -> list[str]:
    """The states from which `trigger` would succeed for a nomination with this chain, history."""
    states = []
    for state in State:
        probe = Dossier(str(state), dossier.chain, dossier.returned_level, dossier.returns)
        if probe.state == State.RETURNED and probe.returned_level is None:
            continue
        if _succeeds(trigger, probe):
            states.append(str(state))
    return states


def _succeeds(trigger: str, dossier: Dossier) -> bool:
    event = MACHINE.events[trigger]
    if dossier.state not in event.transitions:
        return False
    data = EventData(MACHINE.get_state(dossier.state), event, MACHINE, dossier, args=(), kwargs={})
    return any(
        all(condition.check(data) for condition in transition.conditions)
        for transition in event.transitions[dossier.state]
    )


#: The machine's answer for a dossier and a trigger — the dossier's (state, returned level,
#: returns) afterwards, or None when it refuses — keyed by the trigger and the dossier's fields.
#: Its conditions and callbacks read and write only those fields, so the answer for one key never
#: changes: `fire` asks the machine once per key and reads the answer here afterwards (attaching a
#: model to the machine costs more than the rest of a command). At most triggers × states × chains
#: × returned levels × return counts keys, a few thousand. tests/unit compare it with the machine.
_Outcome = tuple[str, str | None, int] | None
_OUTCOMES: dict[tuple[str, str, tuple[str, ...], str | None, int], _Outcome] = {}


def _ask_machine(dossier: Dossier, trigger: str) -> _Outcome:
    """Fire `trigger` on a copy of `dossier` attached to the shared machine; None if refused."""
    probe = Dossier(dossier.state, dossier.chain, dossier.returned_level, dossier.returns)
    with _ATTACH:
        MACHINE.add_model(probe, initial=probe.state)
    try:
        done = probe.trigger(trigger)  # type: ignore[attr-defined]
    except MachineError:
        done = False
    finally:
        with _ATTACH:
            MACHINE.remove_model(probe)
    return (probe.state, probe.returned_level, probe.returns) if done else None


def fire(dossier: Dossier, trigger: str) -> str:
    """Apply `trigger` to `dossier` in place and return its new state.

    Raises InvalidTransition, naming the state and the states the trigger needs, when the
    transitions table has no way out of the dossier's state for this trigger.
    """
    if trigger not in MACHINE.events:
        raise InvalidTransition(trigger, dossier.state, [])
    key = (trigger, dossier.state, dossier.chain, dossier.returned_level, dossier.returns)
    if key in _OUTCOMES:
        outcome = _OUTCOMES[key]
    else:
        outcome = _OUTCOMES[key] = _ask_machine(dossier, trigger)
    if outcome is None:
        raise InvalidTransition(trigger, dossier.state, allowed_sources(trigger, dossier))
    dossier.state, dossier.returned_level, dossier.returns = outcome
    return dossier.state
