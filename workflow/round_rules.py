"""A campaign's award-round rules: criteria with maximum points, quotas, public comment.

Given in a campaign's TOML table (all optional):

    criteria = [{ code = "sang_kien", name = "Sáng kiến được công nhận", max_points = 40 }]
    quotas = { collective = 4, individual = 6 }      # awards per round and nominee kind
    public_comment_forms = ["Bằng khen"]              # default: the high provincial titles
    public_comment_days = 10                          # working days, default 10

and the form a nomination seeks fixes the top of its chain (states.granting_level).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

import states
from workflow.errors import InvalidInput, Refused
from workflow.round_tables import CampaignRules
from workflow.tables import Campaign
from workflow.text import clean_code, clean_text
from workflow.timeutil import local_date

__all__ = [
    "DEFAULT_COMMENT_DAYS",
    "Rules",
    "award_level_for",
    "check_form",
    "parse_rules",
    "rules_of",
    "store_rules",
]

DEFAULT_COMMENT_DAYS = 10


@dataclass(frozen=True)
class Rules:
    criteria: tuple[dict[str, Any], ...] = ()
    quotas: Mapping[str, int] | None = None
    public_comment_forms: frozenset[str] = states.PUBLIC_COMMENT_FORMS
    public_comment_days: int = DEFAULT_COMMENT_DAYS

    def criterion(self, code: str) -> dict[str, Any] | None:
        return next((c for c in self.criteria if c["code"] == code), None)

    def needs_comment(self, form: str) -> bool:
        return form in self.public_comment_forms

    def to_payload(self) -> dict[str, Any]:
        return {
            "criteria": list(self.criteria),
            "quotas": dict(self.quotas or {}),
            "public_comment_forms": sorted(self.public_comment_forms),
            "public_comment_days": self.public_comment_days,
        }


def _whole(value: Any, field: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput(f"{field} must be a whole number of at least {low}, not {value!r}")
    return value


def parse_rules(
    criteria: Sequence[Mapping[str, Any]] | None,
    quotas: Mapping[str, Any] | None,
    public_comment_forms: Sequence[str] | None,
    public_comment_days: int | None,
    *,
    kinds: Mapping[str, str],
) -> Rules | None:
    """Check the rules of a campaign spec; None when it gives none."""
    given = (criteria, quotas, public_comment_forms, public_comment_days)
    if all(value is None for value in given):
        return None
    parsed: list[dict[str, Any]] = []
    for item in criteria or []:
        if not isinstance(item, Mapping) or set(item) != {"code", "name", "max_points"}:
            raise InvalidInput(f"a criterion needs exactly code, name and max_points: {item!r}")
        code = clean_code(str(item["code"]), "criterion code")
        if any(c["code"] == code for c in parsed):
            raise InvalidInput(f"criterion '{code}' is given twice")
        parsed.append(
            {
                "code": code,
                "name": clean_text(str(item["name"]), "criterion name", "title"),
                "max_points": _whole(item["max_points"], f"max_points of '{code}'", 1),
            }
        )
    checked: dict[str, int] = {}
    for kind, count in (quotas or {}).items():
        if kind not in kinds:
            raise InvalidInput(f"quota kind '{kind}' is not one of {', '.join(kinds)}")
        checked[kind] = _whole(count, f"quota of '{kind}'", 0)
    forms = states.PUBLIC_COMMENT_FORMS
    if public_comment_forms is not None:
        unknown = [f for f in public_comment_forms if f not in states.FORMS]
        if unknown or isinstance(public_comment_forms, str):
            raise InvalidInput(
                f"public comment forms {unknown or public_comment_forms} are not award forms: "
                f"{', '.join(states.FORMS)}"
            )
        forms = frozenset(public_comment_forms)
    days = DEFAULT_COMMENT_DAYS
    if public_comment_days is not None:
        days = _whole(public_comment_days, "public_comment_days", 1)
    return Rules(tuple(parsed), checked if quotas is not None else None, forms, days)


def store_rules(session: Session, campaign: Campaign, rules: Rules) -> None:
    session.info.get(_KNOWN, {}).pop(campaign.id, None)
    session.add(
        CampaignRules(
            campaign_id=campaign.id,
            criteria=list(rules.criteria),
            quotas=dict(rules.quotas) if rules.quotas is not None else {},
            public_comment_forms=sorted(rules.public_comment_forms),
            public_comment_days=rules.public_comment_days,
        )
    )


def rules_of(session: Session, campaign: Campaign) -> Rules:
    """The campaign's rules, read once per transaction (`store_rules` forgets them)."""
    known: dict[int, Rules] = session.info.setdefault(_KNOWN, {})
    rules = known.get(campaign.id)
    if rules is None:
        row = session.get(CampaignRules, campaign.id)
        rules = known[campaign.id] = (
            Rules()
            if row is None
            else Rules(
                tuple(row.criteria),
                row.quotas or None,
                frozenset(row.public_comment_forms)
                if row.public_comment_forms is not None
                else states.PUBLIC_COMMENT_FORMS,
                row.public_comment_days,
            )
        )
    return rules


_KNOWN = "thidua.rules"


def award_level_for(campaign: Campaign, form: str | None) -> str:
    """The top of the chain of a nomination seeking `form` (the campaign's award level without)."""
    if form is None:
        return campaign.award_level
    try:
        return states.granting_level(
            form,
            local_date(campaign.registration_deadline),
            tuple(campaign.tiers.split(",")),
            campaign.award_level,
        )
    except ValueError as exc:
        raise Refused("award_form", f"campaign {campaign.code}: {exc}") from exc


def check_form(form: str) -> str:
    form = clean_text(form, "award form")
    if form not in states.FORMS:
        raise InvalidInput(
            f"'{form}' is not an award form; the forms are: {', '.join(states.FORMS)}"
        )
    return form
