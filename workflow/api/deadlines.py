"""Deadlines: what is due next, the escalations raised, the reminders queued."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from workflow.api.deps import Actor, CodeQuery, Limit, Offset, ServiceDep
from workflow.api.pages import page, page_of
from workflow.api.schemas import Page

__all__ = ["router"]

router = APIRouter(tags=["deadlines"])


class Due(BaseModel):
    #: dd/mm/yyyy HH:MM, Vietnam time
    at: str
    #: "due": passed and not yet applied by a sweep
    status: Literal["due", "upcoming"]
    what: str
    campaign: str
    detail: str


class Escalation(BaseModel):
    nomination: int
    campaign: str
    nominee_name: str
    state: str
    level: str
    to_level: str | None
    to_unit: str | None
    reached: str
    due: str
    raised: str


class Reminder(BaseModel):
    campaign: str | None
    kind: str | None
    deadline: str
    to: str | None
    pending: int | None
    queued: str
    delivered: bool


@router.get(
    "/deadlines",
    response_model=Page[Due],
    summary="Deadlines, reminders and review time limits, soonest first",
)
def deadlines(
    service: ServiceDep, actor: Actor, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    return page(
        lambda size, skip: service.deadlines(skip + size, reader=actor)[skip:], limit, offset
    )


@router.get(
    "/escalations",
    response_model=Page[Escalation],
    summary="Reviews past their time limit, of nominations you may read",
)
def escalations(
    service: ServiceDep,
    actor: Actor,
    campaign: CodeQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows = service.escalations(campaign, reader=actor)
    return page_of(rows, limit, offset)


@router.get(
    "/reminders",
    response_model=Page[Reminder],
    summary="Reminders queued before deadlines: yours, or every one for auditors and admins",
)
def reminders(
    service: ServiceDep,
    actor: Actor,
    campaign: CodeQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    rows = service.reminders(campaign, reader=actor)
    return page_of(rows, limit, offset)
