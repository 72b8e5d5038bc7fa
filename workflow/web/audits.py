"""The auditor's page: the log's verification, a nomination's history, exports to download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.downloads import audit_download
from workflow.errors import WorkflowError, http_status
from workflow.web import render
from workflow.web.session import Visit, Visitor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _refused(request: Request, visit: Visit, error: WorkflowError) -> HTMLResponse:
    return render.page(
        request, "error.html", {"visit": visit, "error": render.explain(error)}, http_status(error)
    )


@router.get("/kiem-tra", response_class=HTMLResponse)
def audit_page(request: Request, visit: Visitor) -> HTMLResponse:
    try:
        report = visit.service.verify(reader=visit.username)
    except WorkflowError as exc:
        return _refused(request, visit, exc)
    return render.page(request, "audit.html", {"visit": visit, "report": report})


@router.get("/kiem-tra/ho-so", response_model=None)
def find_history(
    request: Request, visit: Visitor, so: Annotated[str, Query(max_length=24)] = ""
) -> Response:
    """To the timeline of nomination `so`, when it exists and the auditor may read it."""
    try:
        view = visit.service.show(so, reader=visit.username)
    except WorkflowError as exc:
        return _refused(request, visit, exc)
    return RedirectResponse(f"/ho-so/{view.id}#dong-thoi-gian", 303)


@router.get("/kiem-tra/xuat", response_model=None)
def export(
    request: Request,
    visit: Visitor,
    dinh_dang: Annotated[str, Query(max_length=8)] = "jsonl",
    ho_so: Annotated[str | None, Query(max_length=24)] = None,
) -> Response:
    name = f"nhat-ky-ho-so-{ho_so.strip()}" if ho_so else "nhat-ky-kiem-toan"
    try:
        return audit_download(
            visit.service, dinh_dang, name, reader=visit.username, nomination=ho_so
        )
    except WorkflowError as exc:
        return _refused(request, visit, exc)
