"""Campaigns and units: list them, create a campaign (admins), move its deadlines."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from workflow.api.deps import Actor, CampaignCode, Limit, Offset, ServiceDep
from workflow.api.pages import page_of
from workflow.api.schemas import STRICT, Code, Page, Text
from workflow.campaigns import CampaignSpec

__all__ = ["router"]

router = APIRouter(tags=["campaigns"])


class Campaign(BaseModel):
    code: str
    name: str
    issuing_unit: str
    award_level: str
    tiers: list[str]
    #: dd/mm/yyyy HH:MM, Vietnam time
    registration_deadline: str
    report_deadline: str


class CampaignIn(BaseModel):
    """A new campaign; deadlines dd/mm/yyyy (Vietnam time), choices as `thidua campaign create`."""

    model_config = STRICT

    code: Code
    name: Text
    issuing_unit: Code
    registration_deadline: Code
    report_deadline: Code
    award_level: Code | None = None
    tiers: list[Code] | None = Field(default=None, max_length=10)
    areas: list[Code] | None = Field(default=None, max_length=20)
    nominee_kinds: list[Code] | None = Field(default=None, max_length=10)
    criteria: list[dict[str, Any]] | None = Field(default=None, max_length=100)
    quotas: dict[str, Any] | None = None
    public_comment_forms: list[Code] | None = Field(default=None, max_length=20)
    public_comment_days: int | None = Field(default=None, ge=0, le=365)


class DeadlinesIn(BaseModel):
    """Only what is given changes; dates dd/mm/yyyy[ HH:MM], days in working days."""

    model_config = STRICT

    registration: Code | None = None
    report: Code | None = None
    review_days: int | None = Field(default=None, ge=-1000, le=1000)
    reminder_days: list[int] | None = Field(default=None, max_length=20)


class Deadlines(BaseModel):
    campaign: str
    registration_deadline: str
    report_deadline: str
    review_days: int
    reminder_days: list[int]


class UnitOut(BaseModel):
    code: str
    name: str
    level: str
    kind: str
    #: 0 for a province, 1 below it, …
    depth: int


@router.get("/campaigns", response_model=Page[Campaign], summary="Every campaign")
def list_campaigns(
    service: ServiceDep, actor: Actor, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    rows = service.campaigns()
    return page_of(rows, limit, offset)


@router.post(
    "/campaigns", response_model=Campaign, status_code=201, summary="Create a campaign (admins)"
)
def create_campaign(service: ServiceDep, actor: Actor, body: CampaignIn) -> dict[str, Any]:
    spec = CampaignSpec.from_mapping(body.model_dump(exclude_none=True))
    return service.campaign(service.create_campaign(actor, spec))


@router.get("/campaigns/{code}", response_model=Campaign)
def show_campaign(service: ServiceDep, actor: Actor, code: CampaignCode) -> dict[str, Any]:
    return service.campaign(code)


@router.patch(
    "/campaigns/{code}/deadlines",
    response_model=Deadlines,
    summary="Move a campaign's deadlines, review time limit or reminders (admins)",
)
def set_deadlines(
    service: ServiceDep, actor: Actor, code: CampaignCode, body: DeadlinesIn
) -> dict[str, Any]:
    return service.set_deadlines(actor, code, **body.model_dump())


@router.get("/units", response_model=Page[UnitOut], tags=["units"], summary="Every unit")
def list_units(
    service: ServiceDep, actor: Actor, limit: Limit = 200, offset: Offset = 0
) -> dict[str, Any]:
    rows = service.units()
    return page_of(rows, limit, offset)
