"""Award rounds: scores, the ranking, publication for comment, objections, award decisions
(a batch or one), revocation, and a decision with its dossiers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from workflow.api.deps import (
    CODE_PATTERN,
    Actor,
    CampaignCode,
    CodeQuery,
    Limit,
    NominationId,
    Offset,
    ServiceDep,
)
from workflow.api.pages import page_of
from workflow.api.schemas import STRICT, Code, Nomination, Page, Text

__all__ = ["router"]

router = APIRouter(tags=["award rounds"])

Ids = Annotated[list[Annotated[int, Field(ge=1, le=2**62)]], Field(min_length=1, max_length=500)]


class ScoreIn(BaseModel):
    model_config = STRICT

    criterion: Code
    points: int = Field(ge=-(2**31), le=2**31 - 1)
    comment: Text | None = None


class ScoreOut(BaseModel):
    nomination: int
    criterion: str
    points: int


class RankRow(BaseModel):
    rank: int
    nomination: int
    round: str
    nominee_kind: str
    nominee_name: str
    unit: str
    state: str
    total: int
    points: dict[str, int]


class PublishIn(BaseModel):
    model_config = STRICT

    nominations: Ids
    form: Code
    #: working days of public comment; the campaign's setting when left out
    days: int | None = Field(default=None, ge=-1000, le=1000)


class Publication(BaseModel):
    publication: int
    form: str
    nominations: list[int]
    published_at: str
    ends_at: str


class ObjectionIn(BaseModel):
    model_config = STRICT

    objection: Text


class AwardIn(BaseModel):
    """A numbered decision: "163/QĐ-UBND", dated dd/mm/yyyy, granting one award form."""

    model_config = STRICT

    number: Code
    date: Code
    form: Code


class DecideIn(AwardIn):
    nominations: Ids


class Decided(BaseModel):
    decision: str
    date: str
    form: str
    nominations: list[int]


class RevokeIn(BaseModel):
    model_config = STRICT

    number: Code
    date: Code
    reason: Text


class Decision(BaseModel):
    number: str
    kind: str
    date: str
    form: str | None
    issuing_unit: str
    issuing_unit_name: str
    signer: str
    signer_name: str
    campaign: str
    round: str | None
    reason: str | None
    #: each with the nomination, its scores, sign-offs, votes, people and history
    dossiers: list[dict[str, Any]]


@router.post("/nominations/{nomination_id}/scores", response_model=ScoreOut)
def score(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: ScoreIn
) -> dict[str, Any]:
    return service.score(actor, nomination_id, **body.model_dump())


@router.get(
    "/campaigns/{code}/ranking",
    response_model=Page[RankRow],
    summary="The round's ranking, rows of the nominations you may read",
)
def ranking(
    service: ServiceDep,
    actor: Actor,
    code: CampaignCode,
    round: CodeQuery = None,
    kind: CodeQuery = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows = service.ranking(code, round, kind, reader=actor)
    return page_of(rows, limit, offset)


@router.post(
    "/publications",
    response_model=Publication,
    status_code=201,
    summary="Publish nominations for public comment",
)
def publish(service: ServiceDep, actor: Actor, body: PublishIn) -> dict[str, Any]:
    return service.publish(actor, body.nominations, form=body.form, days=body.days)


@router.post("/nominations/{nomination_id}/objections", response_model=Nomination)
def object_to(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: ObjectionIn
) -> dict[str, Any]:
    return service.object_to(actor, nomination_id, body.objection).to_dict()


@router.post(
    "/decisions",
    response_model=Decided,
    status_code=201,
    summary="One award decision over a batch of nominations",
)
def decide(service: ServiceDep, actor: Actor, body: DecideIn) -> dict[str, Any]:
    return service.decide(
        actor, body.nominations, number=body.number, date=body.date, form=body.form
    )


@router.post("/nominations/{nomination_id}/award", response_model=Nomination)
def award(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: AwardIn
) -> dict[str, Any]:
    return service.award(actor, nomination_id, **body.model_dump()).to_dict()


@router.post("/nominations/{nomination_id}/revoke", response_model=Nomination)
def revoke(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: RevokeIn
) -> dict[str, Any]:
    return service.revoke(actor, nomination_id, **body.model_dump()).to_dict()


@router.get(
    "/decisions",
    response_model=Page[Decision],
    summary="The decisions numbered so (of one issuing unit, when given), with their dossiers",
)
def show_decision(
    service: ServiceDep,
    actor: Actor,
    number: Annotated[str, Query(min_length=1, max_length=64, pattern=CODE_PATTERN)],
    unit: CodeQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    found = service.decision(number, unit, reader=actor)
    return page_of(found, limit, offset)
