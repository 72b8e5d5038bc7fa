"""Nominations: register, the officer's and the approver's steps, show, list, history, inbox."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from workflow.api.deps import Actor, CodeQuery, Limit, NominationId, Offset, ServiceDep
from workflow.api.pages import page, page_of
from workflow.api.schemas import Entry, Nomination, Note, Page, Reason, RegisterIn

__all__ = ["router"]

router = APIRouter(tags=["nominations"])


@router.get("/nominations", response_model=Page[Nomination], summary="Nominations you may read")
def list_nominations(
    service: ServiceDep,
    actor: Actor,
    campaign: CodeQuery = None,
    state: CodeQuery = None,
    unit: CodeQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    return page(
        lambda size, skip: service.list_nominations(
            campaign=campaign, state=state, unit=unit, limit=size, offset=skip, reader=actor
        ),
        limit,
        offset,
    )


@router.post(
    "/nominations", response_model=Nomination, status_code=201, summary="Register a nomination"
)
def register(service: ServiceDep, actor: Actor, body: RegisterIn) -> dict[str, Any]:
    return service.register(actor, **body.model_dump()).to_dict()


@router.get("/nominations/{nomination_id}", response_model=Nomination)
def show(service: ServiceDep, actor: Actor, nomination_id: NominationId) -> dict[str, Any]:
    return service.show(nomination_id, reader=actor).to_dict()


@router.get("/nominations/{nomination_id}/history", response_model=Page[Entry])
def history(
    service: ServiceDep,
    actor: Actor,
    nomination_id: NominationId,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    entries = service.history(nomination_id, reader=actor)
    return page_of(entries, limit, offset)


@router.get("/inbox", response_model=Page[Nomination], summary="Awaiting your review")
def inbox(
    service: ServiceDep, actor: Actor, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    return page(lambda size, skip: service.inbox(actor, size, skip), limit, offset)


@router.post("/nominations/{nomination_id}/implement", response_model=Nomination)
def implement(service: ServiceDep, actor: Actor, nomination_id: NominationId) -> dict[str, Any]:
    return service.implement(actor, nomination_id).to_dict()


@router.post("/nominations/{nomination_id}/report", response_model=Nomination)
def report(service: ServiceDep, actor: Actor, nomination_id: NominationId) -> dict[str, Any]:
    return service.report(actor, nomination_id).to_dict()


@router.post("/nominations/{nomination_id}/resubmit", response_model=Nomination)
def resubmit(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: Note | None = None
) -> dict[str, Any]:
    note = body.comment if body is not None else None
    return service.resubmit(actor, nomination_id, note).to_dict()


@router.post("/nominations/{nomination_id}/withdraw", response_model=Nomination)
def withdraw(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: Reason
) -> dict[str, Any]:
    return service.withdraw(actor, nomination_id, body.reason).to_dict()


@router.post("/nominations/{nomination_id}/approve", response_model=Nomination)
def approve(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: Note | None = None
) -> dict[str, Any]:
    comment = body.comment if body is not None else None
    return service.approve(actor, nomination_id, comment).to_dict()


@router.post("/nominations/{nomination_id}/return", response_model=Nomination)
def return_for_supplement(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: Reason
) -> dict[str, Any]:
    return service.return_for_supplement(actor, nomination_id, body.reason).to_dict()


@router.post("/nominations/{nomination_id}/reject", response_model=Nomination)
def reject(
    service: ServiceDep, actor: Actor, nomination_id: NominationId, body: Reason
) -> dict[str, Any]:
    return service.reject(actor, nomination_id, body.reason).to_dict()
