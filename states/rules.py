"""Pure guard rules: separation of duties and the return-once rule.

They take plain values (person ids, levels, sign-offs) and raise RuleViolation naming the rule.
Role, unit scope and deadlines need the service's data and clock, and are checked there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from states.errors import RuleViolation

__all__ = ["check_return_once", "check_separation_of_duties"]


def check_separation_of_duties(
    signer: int,
    level: str,
    *,
    proposer: int,
    nominee: int | None,
    signoffs: Mapping[str, Sequence[int]],
) -> None:
    """The proposer and the nominee never sign; nobody signs at two levels of one nomination."""
    if signer == proposer:
        raise RuleViolation(
            "separation_of_duties", "the proposer of a nomination cannot sign it off"
        )
    if nominee is not None and signer == nominee:
        raise RuleViolation(
            "separation_of_duties", "the nominee cannot sign off their own nomination"
        )
    for signed_level, signers in signoffs.items():
        if signer in signers:
            if signed_level == level:
                raise RuleViolation(
                    "separation_of_duties",
                    f"this person already signed at level '{level}'",
                )
            raise RuleViolation(
                "separation_of_duties",
                f"this person already signed at level '{signed_level}' and cannot sign "
                f"at level '{level}' too",
            )


def check_return_once(returns: int) -> None:
    """A dossier may be returned for supplement only once."""
    if returns >= 1:
        raise RuleViolation(
            "return_once",
            f"a nomination may be returned for supplement only once; it was returned {returns} "
            "time(s) already — approve or reject it",
        )
