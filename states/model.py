"""The vocabulary of a nomination's life: states, review levels, triggers and chains.

A nomination is reviewed along its *chain*: the review levels from its nominee's unit level up
to the campaign's award level, taken from the campaign's tiers (three tiers before 1 July 2025,
commune → province after). The chain is data pinned on the nomination when it is registered.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DEFINITION_VERSION",
    "FINAL_STATES",
    "LEVELS",
    "REVIEW_STATES",
    "Level",
    "State",
    "Trigger",
    "awaiting_level",
    "chain_for",
    "review_state",
    "state_awaiting",
]

#: Version of the state model definition, pinned on each nomination at registration.
DEFINITION_VERSION = 1


class Level(StrEnum):
    """Administrative review levels, lowest first."""

    COMMUNE = "commune"
    DISTRICT = "district"
    PROVINCE = "province"


LEVELS: tuple[Level, ...] = (Level.COMMUNE, Level.DISTRICT, Level.PROVINCE)


class State(StrEnum):
    REGISTERED = "registered"
    IMPLEMENTED = "implemented"
    REPORTED = "reported"
    RETURNED = "returned"
    COMMUNE_REVIEWED = "commune_reviewed"
    DISTRICT_REVIEWED = "district_reviewed"
    PROVINCE_REVIEWED = "province_reviewed"
    AWARDED = "awarded"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"


class Trigger(StrEnum):
    REGISTER = "register"
    IMPLEMENT = "implement"
    REPORT = "report"
    APPROVE = "approve"
    RETURN = "return"
    RESUBMIT = "resubmit"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    AWARD = "award"
    REVOKE = "revoke"
    #: An objection during public comment sends a nomination back to its last level.
    OBJECT = "object"


REVIEW_STATES: dict[Level, State] = {
    Level.COMMUNE: State.COMMUNE_REVIEWED,
    Level.DISTRICT: State.DISTRICT_REVIEWED,
    Level.PROVINCE: State.PROVINCE_REVIEWED,
}

#: States no trigger leaves, but for `revoke` from `awarded`.
FINAL_STATES = frozenset(
    {State.AWARDED, State.REJECTED, State.EXPIRED, State.WITHDRAWN, State.REVOKED}
)


def review_state(level: str) -> State:
    """The state a nomination is in once `level` has signed it off."""
    return REVIEW_STATES[Level(level)]


def chain_for(unit_level: str, award_level: str, tiers: tuple[str, ...]) -> tuple[str, ...]:
    """The review levels from `unit_level` up to `award_level` among the campaign's `tiers`.

    >>> chain_for("commune", "district", ("commune", "district", "province"))
    ('commune', 'district')
    >>> chain_for("commune", "province", ("commune", "province"))
    ('commune', 'province')

    Raises ValueError, naming the values, when the unit's level or the award level is not one of
    the campaign's tiers or the unit sits above the award level.
    """
    if unit_level not in tiers:
        raise ValueError(
            f"unit level '{unit_level}' is not one of the campaign's tiers {' → '.join(tiers)}"
        )
    if award_level not in tiers:
        raise ValueError(
            f"award level '{award_level}' is not one of the campaign's tiers {' → '.join(tiers)}"
        )
    start, end = tiers.index(unit_level), tiers.index(award_level)
    if start > end:
        raise ValueError(
            f"a unit at level '{unit_level}' sits above the campaign's award level '{award_level}'"
        )
    return tiers[start : end + 1]


def awaiting_level(state: str, chain: tuple[str, ...]) -> str | None:
    """The level whose review a nomination in `state` waits for, or None."""
    if state == State.REPORTED:
        return chain[0]
    for index, level in enumerate(chain[:-1]):
        if state == REVIEW_STATES[Level(level)]:
            return chain[index + 1]
    return None


def state_awaiting(level: str, chain: tuple[str, ...]) -> State:
    """The state in which a nomination waits for `level`'s review (inverse of awaiting_level)."""
    index = chain.index(level)
    return State.REPORTED if index == 0 else review_state(chain[index - 1])
