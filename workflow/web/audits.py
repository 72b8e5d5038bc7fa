"""The auditor's page: the log's verification, a nomination's history, exports to download."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from workflow.errors import WorkflowError, http_status
from workflow.web import render
from workflow.web.session import Visitor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_MEDIA = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/kiem-tra", response_class=HTMLResponse)
def audit_page(request: Request, visit: Visitor) -> HTMLResponse:
    try:
        report = visit.service.verify(reader=visit.username)
    except WorkflowError as exc:
        return render.page(
            request, "error.html", {"visit": visit, "error": render.explain(exc)}, http_status(exc)
        )
    return render.page(request, "audit.html", {"visit": visit, "report": report})


@router.get("/kiem-tra/ho-so", response_model=None)
def find_history(visit: Visitor, so: Annotated[int, Query(ge=1, le=2**62)]) -> RedirectResponse:
    return RedirectResponse(f"/ho-so/{so}#dong-thoi-gian", status_code=303)


@router.get("/kiem-tra/xuat", response_model=None)
def export(
    request: Request,
    visit: Visitor,
    dinh_dang: Annotated[str, Query(max_length=8)] = "jsonl",
    ho_so: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    handle, path = tempfile.mkstemp(
        prefix="thidua-audit-", suffix=f".{dinh_dang}" if dinh_dang in _MEDIA else ".tmp"
    )
    os.close(handle)
    try:
        visit.service.export_audit(path, dinh_dang, nomination=ho_so, reader=visit.username)
    except WorkflowError as exc:
        os.unlink(path)
        return render.page(
            request, "error.html", {"visit": visit, "error": render.explain(exc)}, http_status(exc)
        )
    name = f"nhat-ky-ho-so-{ho_so}" if ho_so else "nhat-ky-kiem-toan"
    return FileResponse(
        path,
        media_type=_MEDIA[dinh_dang],
        filename=f"{name}.{dinh_dang}",
        background=BackgroundTask(os.unlink, path),
    )
