"""All routes of /api/v1, gathered; every one declares the errors it may answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from workflow.api import (
    audit,
    campaigns,
    councils,
    deadlines,
    delegations,
    nominations,
    notifications,
    rounds,
)
from workflow.api.deps import Actor, ServiceDep
from workflow.api.schemas import ErrorBody, Me

__all__ = ["router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "malformed request"),
        (401, "no valid bearer token"),
        (403, "refused by a rule: role, unit scope, separation of duties, deadline, quota"),
        (404, "no such nomination, person, unit or campaign"),
        (409, "conflict: wrong state, or changed by someone else meanwhile"),
        (422, "bad input"),
    )
}

router = APIRouter(prefix="/api/v1", responses=_ERRORS)


@router.get("/me", response_model=Me, tags=["people"], summary="Who the token belongs to")
def me(service: ServiceDep, actor: Actor) -> dict[str, Any]:
    return service.whoami(actor)


for subject in (
    nominations,
    campaigns,
    rounds,
    councils,
    delegations,
    audit,
    notifications,
    deadlines,
):
    router.include_router(subject.router)
