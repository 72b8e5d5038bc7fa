"""Errors of the state model.

    StateModelError
    ├── InvalidTransition   a trigger the transitions table does not allow from a state
    └── RuleViolation       a guard's rule refused a trigger (separation of duties, return once …)

Each carries the values it names, so the service can translate it at its boundary.
"""

from __future__ import annotations

__all__ = ["InvalidTransition", "RuleViolation", "StateModelError"]


class StateModelError(Exception):
    """Base of the state model's errors."""


class InvalidTransition(StateModelError):
    def __init__(self, trigger: str, state: str, needs: list[str]) -> None:
        self.trigger, self.state, self.needs = trigger, state, needs
        if needs:
            wanted = " or ".join(f"'{s}'" for s in needs)
            detail = f"'{trigger}' needs {wanted}"
        else:
            detail = f"'{trigger}' is not possible from it"
        super().__init__(f"it is '{state}'; {detail}")


class RuleViolation(StateModelError):
    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)
