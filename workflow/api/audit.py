"""The audit log, for auditors and admins: verify, replay (as of an instant), export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from workflow.api.deps import CODE_PATTERN, Actor, CodeQuery, Limit, Offset, ServiceDep
from workflow.api.pages import page_of
from workflow.downloads import audit_download
from workflow.export import MEDIA_TYPES
from workflow.timeutil import parse_instant

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])


class Break(BaseModel):
    stream: str
    seq: int | None
    entry_id: int | None
    why: str


class VerifyReport(BaseModel):
    ok: bool
    entries: int
    streams: int
    breaks: list[Break]


class Replayed(BaseModel):
    nomination: int
    campaign: str
    #: the state its entries replay to (null: not yet registered at `as_of`)
    replayed: str | None
    #: the state stored now
    stored: str
    entries: int
    problem: str | None
    differs: bool


class ReplayReport(BaseModel):
    #: the instant replayed to, ISO 8601 UTC; null for now
    as_of: str | None
    entries: int
    #: every nomination replays to its stored state (meaningful without `as_of`)
    ok: bool
    differences: int
    items: list[Replayed]
    limit: int
    offset: int
    next_offset: int | None


@router.get("/verify", response_model=VerifyReport, summary="Recompute every hash chain")
def verify(service: ServiceDep, actor: Actor) -> dict[str, Any]:
    report = service.verify(reader=actor)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "streams": report.streams,
        "breaks": [b.__dict__ for b in report.breaks],
    }


@router.get(
    "/replay",
    response_model=ReplayReport,
    summary="Every nomination's state rebuilt from its entries, as of an instant",
)
def replay(
    service: ServiceDep,
    actor: Actor,
    as_of: Annotated[
        str | None,
        Query(max_length=32, pattern=CODE_PATTERN, description="dd/mm/yyyy[ HH:MM], Vietnam time"),
    ] = None,
    campaign: CodeQuery = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    instant = parse_instant(as_of, "as_of") if as_of is not None else None
    report = service.replay(instant, campaign, reader=actor)
    rows = [{**item.__dict__, "differs": item.differs} for item in report.nominations]
    listed = page_of(rows, limit, offset)
    return {
        "as_of": instant.isoformat() if instant is not None else None,
        "entries": report.entries,
        "ok": not report.differences,
        "differences": len(report.differences),
        **listed,
    }


@router.get(
    "/export",
    response_class=FileResponse,
    summary="Download the entries of a nomination, a campaign or the whole log",
    responses={
        200: {
            "description": "the entries, as a file",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA_TYPES.values()
            },
        }
    },
)
def export(
    service: ServiceDep,
    actor: Actor,
    format: Literal["jsonl", "csv", "xlsx"] = "jsonl",
    nomination: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    campaign: CodeQuery = None,
) -> FileResponse:
    scope = (
        f"nomination-{nomination}" if nomination else f"campaign-{campaign}" if campaign else "log"
    )
    return audit_download(
        service,
        format,
        f"thidua-audit-{scope}",
        reader=actor,
        nomination=nomination,
        campaign=campaign,
    )
