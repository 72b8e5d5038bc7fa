"""Campaigns (phong trào thi đua): issuing unit, award level, tiers, deadlines, areas, kinds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from states import DEFINITION_VERSION, LEVELS, Level
from workflow import audit, round_rules
from workflow.directory import Principal, covers, unit_by_code
from workflow.errors import Forbidden, InvalidInput, NotFound
from workflow.tables import Campaign
from workflow.text import clean_code, clean_text
from workflow.timeutil import parse_date, start_of_day

__all__ = [
    "AREAS",
    "NOMINEE_KINDS",
    "TWO_TIER_FROM",
    "CampaignSpec",
    "campaign_by_code",
    "create_campaign",
]

#: The six reform areas (06 lĩnh vực cải cách hành chính).
AREAS: dict[str, str] = {
    "the_che": "Cải cách thể chế",
    "thu_tuc_hanh_chinh": "Cải cách thủ tục hành chính",
    "to_chuc_bo_may": "Cải cách tổ chức bộ máy",
    "che_do_cong_vu": "Cải cách chế độ công vụ",
    "tai_chinh_cong": "Cải cách tài chính công",
    "chinh_quyen_so": "Xây dựng và phát triển chính quyền điện tử, chính quyền số",
}

NOMINEE_KINDS: dict[str, str] = {
    "collective": "Tập thể",
    "individual": "Cá nhân",
    "citizen": "Người dân",
    "business": "Doanh nghiệp",
}

#: From 1 July 2025 the country runs two tiers of local government: province → commune.
TWO_TIER_FROM = date(2025, 7, 1)
THREE_TIERS = ("commune", "district", "province")
TWO_TIERS = ("commune", "province")


@dataclass(frozen=True)
class CampaignSpec:
    """A campaign as given in a TOML file or on the command line, not yet checked."""

    code: str
    name: str
    issuing_unit: str
    registration_deadline: str
    report_deadline: str
    award_level: str | None = None
    tiers: Sequence[str] | None = None
    areas: Sequence[str] | None = None
    nominee_kinds: Sequence[str] | None = None
    # award rounds (workflow/round_rules.py)
    criteria: Sequence[Mapping[str, Any]] | None = None
    quotas: Mapping[str, Any] | None = None
    public_comment_forms: Sequence[str] | None = None
    public_comment_days: int | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CampaignSpec:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"campaign has unknown keys: {', '.join(unknown)}")
        missing = [
            key
            for key in (
                "code",
                "name",
                "issuing_unit",
                "registration_deadline",
                "report_deadline",
            )
            if key not in data
        ]
        if missing:
            raise InvalidInput(f"campaign is missing: {', '.join(missing)}")
        return cls(**data)


def _choices(values: Sequence[str] | None, allowed: Mapping[str, str], field: str) -> list[str]:
    if values is None:
        return list(allowed)
    if isinstance(values, str) or not values:
        raise InvalidInput(f"{field} must be a non-empty list")
    for value in values:
        if value not in allowed:
            raise InvalidInput(f"{field}: '{value}' is not one of {', '.join(allowed)}")
    return list(dict.fromkeys(values))


def create_campaign(
    session: Session, principal: Principal, spec: CampaignSpec, now: datetime
) -> Campaign:
    """Check a campaign spec, store it and write its first audit entry."""
    code = clean_code(spec.code, "campaign code")
    name = clean_text(spec.name, "campaign name", "title")
    unit = unit_by_code(session, spec.issuing_unit, "issuing unit")
    if not any(covers(g.unit, unit) for g in principal.holding("admin")):
        raise Forbidden(
            "role",
            f"{principal.username} is not an admin of {unit.name} ({unit.code}) or a unit above "
            f"it; admin of: {principal.scopes('admin')}",
        )
    registration = parse_date(spec.registration_deadline, "registration deadline")
    report = parse_date(spec.report_deadline, "report deadline")
    if report <= registration:
        raise InvalidInput(
            f"report deadline {spec.report_deadline} must come after the registration "
            f"deadline {spec.registration_deadline}"
        )
    tiers: tuple[str, ...]
    if spec.tiers is None:
        tiers = TWO_TIERS if registration >= TWO_TIER_FROM else THREE_TIERS
    else:
        tiers = tuple(spec.tiers)
        if list(tiers) != [level for level in LEVELS if level in tiers] or len(tiers) < 1:
            raise InvalidInput(
                f"tiers {list(tiers)} must be levels of {list(LEVELS)}, lowest first"
            )
    award_level = spec.award_level or unit.level
    if award_level not in tiers:
        raise InvalidInput(
            f"award level '{award_level}' is not one of the tiers {', '.join(tiers)}"
        )
    if LEVELS.index(Level(award_level)) > LEVELS.index(Level(unit.level)):
        raise InvalidInput(
            f"{unit.name} at level '{unit.level}' cannot award at level '{award_level}'"
        )
    rules = round_rules.parse_rules(
        spec.criteria,
        spec.quotas,
        spec.public_comment_forms,
        spec.public_comment_days,
        kinds=NOMINEE_KINDS,
    )
    if session.scalars(select(Campaign.id).where(Campaign.code == code)).first() is not None:
        raise InvalidInput(f"a campaign with code '{code}' exists already")
    campaign = Campaign(
        code=code,
        name=name,
        issuing_unit_id=unit.id,
        award_level=award_level,
        tiers=",".join(tiers),
        registration_deadline=start_of_day(registration),
        report_deadline=start_of_day(report),
        areas=_choices(spec.areas, AREAS, "areas"),
        nominee_kinds=_choices(spec.nominee_kinds, NOMINEE_KINDS, "nominee kinds"),
        created_at=now,
        version=0,
        last_hash=audit.GENESIS,
    )
    session.add(campaign)
    session.flush()
    if rules is not None:
        round_rules.store_rules(session, campaign, rules)
    grant = next(g for g in principal.holding("admin") if covers(g.unit, unit))
    audit.record(
        session,
        campaign,
        f"campaign:{campaign.id}",
        at=now,
        actor=audit.Actor(principal.id, principal.person.full_name, "admin", grant.unit.code),
        trigger="create",
        from_state=None,
        to_state="open",
        payload={
            "code": code,
            "name": name,
            "issuing_unit": unit.code,
            "award_level": award_level,
            "tiers": list(tiers),
            "registration_deadline": registration.isoformat(),
            "report_deadline": report.isoformat(),
            "areas": campaign.areas,
            "nominee_kinds": campaign.nominee_kinds,
            **({"rules": rules.to_payload()} if rules is not None else {}),
        },
        definition_version=DEFINITION_VERSION,
    )
    return campaign


#: Built once, so each command reuses its compiled form.
_BY_CODE = (
    select(Campaign)
    .where(Campaign.code == bindparam("code"))
    .options(joinedload(Campaign.issuing_unit))
)


def campaign_by_code(session: Session, code: str) -> Campaign:
    code = clean_code(code, "campaign")
    campaign = session.scalars(_BY_CODE, {"code": code}).one_or_none()
    if campaign is None:
        raise NotFound(f"no campaign with code '{code}'")
    return campaign
