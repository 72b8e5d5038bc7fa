"""Notifications: the outbox (admins), retrying a parked message, and a person's channels."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from workflow.api.deps import CODE_PATTERN, Actor, Limit, Offset, ServiceDep
from workflow.api.pages import page
from workflow.api.schemas import STRICT, Code, Page

__all__ = ["router"]

router = APIRouter(tags=["notifications"])

Channel = Literal["email", "webhook", "log"]
Username = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]


class Message(BaseModel):
    id: int
    key: str
    event: str
    recipient: str | None
    channel: str | None
    address: str | None
    state: Literal["pending", "delivered", "parked"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    parked_at: datetime | None
    last_error: str | None


class Retried(BaseModel):
    id: int
    key: str
    state: str


class ChannelOut(BaseModel):
    channel: str
    address: str | None
    enabled: bool
    #: false: not chosen, where messages go by default (the person's e-mail, else the log)
    chosen: bool


class ChannelIn(BaseModel):
    model_config = STRICT

    address: Code | None = None
    enabled: bool = True


class ChannelSet(BaseModel):
    person: str
    channel: str
    address: str | None
    enabled: bool


@router.get("/notifications", response_model=Page[Message], summary="The outbox (admins)")
def list_notifications(
    service: ServiceDep,
    actor: Actor,
    state: Annotated[Literal["pending", "delivered", "parked"] | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    return page(
        lambda size, skip: service.notifications(state, size, skip, reader=actor), limit, offset
    )


@router.post(
    "/notifications/{notification_id}/retry",
    response_model=Retried,
    summary="Requeue a parked notification (admins)",
)
def retry(
    service: ServiceDep,
    actor: Actor,
    notification_id: Annotated[int, Path(ge=1, le=2**62)],
) -> dict[str, Any]:
    return service.retry_notification(notification_id, actor=actor)


@router.get("/me/channels", response_model=list[ChannelOut], tags=["people"])
def my_channels(service: ServiceDep, actor: Actor) -> list[dict[str, Any]]:
    return service.channels(actor, reader=actor)


@router.put("/me/channels/{channel}", response_model=ChannelSet, tags=["people"])
def set_my_channel(
    service: ServiceDep, actor: Actor, channel: Channel, body: ChannelIn
) -> dict[str, Any]:
    return service.set_channel(actor, channel, body.address, body.enabled, actor=actor)


@router.get(
    "/people/{username}/channels",
    response_model=list[ChannelOut],
    tags=["people"],
    summary="A person's channels (your own, or anyone's for admins)",
)
def channels(service: ServiceDep, actor: Actor, username: Username) -> list[dict[str, Any]]:
    return service.channels(username, reader=actor)


@router.put(
    "/people/{username}/channels/{channel}",
    response_model=ChannelSet,
    tags=["people"],
    summary="Set a person's channel (your own, or anyone's for admins)",
)
def set_channel(
    service: ServiceDep, actor: Actor, username: Username, channel: Channel, body: ChannelIn
) -> dict[str, Any]:
    return service.set_channel(username, channel, body.address, body.enabled, actor=actor)
