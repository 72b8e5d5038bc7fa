"""Councils: set a campaign level's council, vote, and a nomination's council status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from workflow.api.deps import CODE_PATTERN, Actor, CampaignCode, NominationId, ServiceDep
from workflow.api.schemas import STRICT, Code, Nomination, Text

__all__ = ["router"]

router = APIRouter(tags=["councils"])


class CouncilIn(BaseModel):
    model_config = STRICT

    members: list[Code] = Field(min_length=1, max_length=200)
    #: "majority", "all", "2/3", "90%", or a number of members
    threshold: Code


class Council(BaseModel):
    campaign: str
    level: str
    members: list[str]
    threshold: str
    required: int


class VoteIn(BaseModel):
    model_config = STRICT

    approve: bool
    comment: Text | None = None
    #: the member a substitute votes for, under a delegation in force
    on_behalf_of: Code | None = None


class Pending(BaseModel):
    level: str
    threshold: str
    members: list[str]
    not_voted: list[str]
    tally: dict[str, int]


class Vote(BaseModel):
    level: str
    member: str
    member_name: str
    cast_by: str
    vote: str
    comment: str | None
    at: str
    #: whether it counts toward the council the nomination awaits now
    counts: bool


class CouncilStatus(BaseModel):
    council: Pending | None
    votes: list[Vote]


@router.put(
    "/campaigns/{code}/councils/{level}",
    response_model=Council,
    summary="Make a level of a campaign a council (admins)",
)
def set_council(
    service: ServiceDep,
    actor: Actor,
    code: CampaignCode,
    level: Annotated[str, Path(min_length=1, max_length=32, pattern=CODE_PATTERN)],
    body: CouncilIn,
) -> dict[str, Any]:
    return service.set_council(
        actor, campaign=code, level=level, members=body.members, threshold=body.threshold
    )


@router.post("/nominations/{nomination_id}/votes", response_model=Nomination)
def vote(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: VoteIn
) -> dict[str, Any]:
    return service.vote(actor, nomination_id, **body.model_dump()).to_dict()


@router.get("/nominations/{nomination_id}/council", response_model=CouncilStatus)
def council_status(
    service: ServiceDep, actor: Actor, nomination_id: NominationId
) -> dict[str, Any]:
    return service.council_status(nomination_id, reader=actor)
