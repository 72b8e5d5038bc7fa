"""Request and response bodies of the JSON API (pydantic), as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Entry",
    "ErrorBody",
    "Me",
    "Nomination",
    "Note",
    "Page",
    "Reason",
    "RegisterIn",
    "RoleOut",
]

T = TypeVar("T")


class ErrorBody(BaseModel):
    """Every error: a stable code, a sentence with the values, the rule that refused (403)."""

    error: str = Field(examples=["forbidden"])
    message: str
    rule: str | None = None
    request_id: str | None = None
    details: list[dict[str, Any]] | None = None


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    #: The offset of the next page, or null on the last one.
    next_offset: int | None


class RoleOut(BaseModel):
    role: str
    unit: str
    unit_name: str
    level: str


class Me(BaseModel):
    username: str
    full_name: str
    email: str | None
    roles: list[RoleOut]


class Nomination(BaseModel):
    id: int
    campaign: str
    unit: str
    unit_name: str
    proposer: str
    nominee_kind: str
    nominee_name: str
    title: str
    area: str
    state: str
    awaiting: str | None
    chain: list[str]
    returns: int
    award_number: str | None
    #: dd/mm/yyyy
    award_date: str | None
    award_form: str | None
    #: ISO 8601, UTC
    updated_at: str
    #: dd/mm/yyyy HH:MM, Vietnam time
    updated_at_local: str
    version: int


class Entry(BaseModel):
    seq: int
    at: str
    at_local: str
    actor: str
    role: str
    unit: str | None
    trigger: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    payload: dict[str, Any]
    hash: str


_STRICT = ConfigDict(extra="forbid")


class RegisterIn(BaseModel):
    model_config = _STRICT

    campaign: str
    unit: str
    nominee_kind: str
    nominee_name: str
    title: str
    area: str
    nominee: str | None = None
    form: str | None = None


class Reason(BaseModel):
    model_config = _STRICT

    reason: str


class Note(BaseModel):
    """An optional comment (approve) or note (resubmit)."""

    model_config = _STRICT

    comment: str | None = None
