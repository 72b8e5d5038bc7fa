"""Rebuild a nomination's state from its audit entries alone, through the state model.

An entry whose trigger is not one of the state model's (a score, a vote, an overdue mark) is an
*annotation*: it changes no state, so its from- and to-state must both be the replayed state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from states.errors import InvalidTransition
from states.machine import MACHINE, Dossier, fire
from states.model import State, Trigger

__all__ = ["Replay", "replay"]


@dataclass
class Replay:
    """The rebuilt dossier and every place the entries disagree with the state model."""

    dossier: Dossier | None = None
    mismatches: list[str] = field(default_factory=list)


def replay(entries: Iterable[Mapping[str, Any]]) -> Replay:
    """Replay entries (each with seq, trigger, from_state, to_state, payload) in order."""
    result = Replay()
    for entry in entries:
        seq, trigger = entry["seq"], entry["trigger"]
        if trigger == Trigger.REGISTER:
            if result.dossier is not None:
                result.mismatches.append(f"entry {seq}: a second 'register'")
                continue
            chain = tuple(entry["payload"]["chain"])
            result.dossier = Dossier(str(State.REGISTERED), chain)
        elif result.dossier is None:
            result.mismatches.append(f"entry {seq}: '{trigger}' before 'register'")
            continue
        elif trigger not in MACHINE.events:
            if entry["from_state"] != result.dossier.state:
                result.mismatches.append(
                    f"entry {seq}: annotation '{trigger}' says from '{entry['from_state']}', "
                    f"replay is at '{result.dossier.state}'"
                )
        else:
            before = result.dossier.state
            if entry["from_state"] != before:
                result.mismatches.append(
                    f"entry {seq}: says from '{entry['from_state']}', replay is at '{before}'"
                )
            try:
                fire(result.dossier, trigger)
            except InvalidTransition as exc:
                result.mismatches.append(
                    f"entry {seq}: '{trigger}' refused by the state model: {exc}"
                )
                continue
        if entry["to_state"] != result.dossier.state:
            result.mismatches.append(
                f"entry {seq}: says to '{entry['to_state']}', replay gives '{result.dossier.state}'"
            )
    return result
