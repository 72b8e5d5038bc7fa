"""The state model of a nomination: states, triggers, chains, the transitions table and pure rules.

Imports only the standard library and `transitions`; knows nothing of storage, HTTP or clocks.
"""

from states.awards import FORMS, PUBLIC_COMMENT_FORMS, forms_granted, granting_level
from states.errors import InvalidTransition, RuleViolation, StateModelError
from states.machine import MACHINE, TRANSITIONS, Dossier, allowed_sources, fire
from states.model import (
    DEFINITION_VERSION,
    FINAL_STATES,
    LEVELS,
    REVIEW_STATES,
    Level,
    State,
    Trigger,
    awaiting_level,
    chain_for,
    review_state,
    state_awaiting,
)
from states.replay import Replay, replay
from states.rules import check_return_once, check_separation_of_duties

__all__ = [
    "DEFINITION_VERSION",
    "FINAL_STATES",
    "FORMS",
    "LEVELS",
    "MACHINE",
    "PUBLIC_COMMENT_FORMS",
    "REVIEW_STATES",
    "TRANSITIONS",
    "Dossier",
    "InvalidTransition",
    "Level",
    "Replay",
    "RuleViolation",
    "State",
    "StateModelError",
    "Trigger",
    "allowed_sources",
    "awaiting_level",
    "chain_for",
    "check_return_once",
    "check_separation_of_duties",
    "fire",
    "forms_granted",
    "granting_level",
    "replay",
    "review_state",
    "state_awaiting",
]
