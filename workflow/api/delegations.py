"""Delegations: an approver names a substitute for a period; revoke it; list one's own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from workflow.api.deps import Actor, Limit, Offset, ServiceDep
from workflow.api.pages import page_of
from workflow.api.schemas import STRICT, Code, Page

__all__ = ["router"]

router = APIRouter(tags=["delegations"])


class DelegationIn(BaseModel):
    """From `starts` until `until` inclusive (dd/mm/yyyy), optionally limited to one unit."""

    model_config = STRICT

    to: Code
    starts: Code
    until: Code
    unit: Code | None = None


class Delegation(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    delegator: str
    substitute: str
    #: dd/mm/yyyy
    starts: str = Field(alias="from")
    #: dd/mm/yyyy, the last day included
    until: str
    unit: str | None
    revoked_at: str | None


@router.post("/delegations", response_model=Delegation, status_code=201)
def delegate(service: ServiceDep, actor: Actor, body: DelegationIn) -> dict[str, Any]:
    return service.delegate(actor, **body.model_dump())


@router.post("/delegations/{delegation_id}/revoke", response_model=Delegation)
def revoke_delegation(
    service: ServiceDep,
    actor: Actor,
    delegation_id: Annotated[int, Path(ge=1, le=2**62)],
) -> dict[str, Any]:
    return service.revoke_delegation(actor, delegation_id)


@router.get(
    "/delegations", response_model=Page[Delegation], summary="Delegations you named or received"
)
def list_delegations(
    service: ServiceDep, actor: Actor, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    rows = service.delegations(actor)
    return page_of(rows, limit, offset)
