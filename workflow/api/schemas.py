"""Request and response bodies of the JSON API (pydantic), as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "STRICT",
    "Code",
    "Entry",
    "ErrorBody",
    "Me",
    "Nomination",
    "Note",
    "Page",
    "Reason",
    "RegisterIn",
    "RoleOut",
    "Text",
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


STRICT = ConfigDict(extra="forbid")

#: A code, username, date or choice: the service checks it; NUL and control characters never
#: reach the database.
Code = Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
#: Free text (a name, a reason, a comment): the service trims it, checks it and keeps it in NFC.
Text = Annotated[str, Field(max_length=4000, pattern=r"^[^\x00]*$")]


class RegisterIn(BaseModel):
    model_config = STRICT

    campaign: Code
    unit: Code
    nominee_kind: Code
    nominee_name: Text
    title: Text
    area: Code
    nominee: Code | None = None
    form: Code | None = None


class Reason(BaseModel):
    model_config = STRICT

    reason: Text


class Note(BaseModel):
    """An optional comment (approve) or note (resubmit)."""

    model_config = STRICT

    comment: Text | None = None
