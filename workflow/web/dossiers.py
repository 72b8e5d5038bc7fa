"""An officer's dossiers and register form, an approver's inbox, a nomination with its timeline,
and every step a form takes on it. Thin: parse the form, ask the service as the signed-in
person, render; a refusal re-renders the page with the service's message and its status."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from workflow.errors import WorkflowError, http_status
from workflow.timeutil import parse_instant
from workflow.web import render
from workflow.web.session import Posted, Visit, Visitor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE = 50
_POINTS = re.compile(r"[0-9]{1,6}")
#: Checked by the service (a refusal page, not the API's JSON, for "/ho-so/abc").
Id = Annotated[str, Path(max_length=24)]
Page = Annotated[int, Query(ge=1, le=100_000)]
Text = Annotated[str, Form(max_length=4000)]


def _error_page(request: Request, visit: Visit, error: WorkflowError) -> HTMLResponse:
    return render.page(
        request,
        "error.html",
        {"visit": visit, "error": render.explain(error)},
        http_status(error),
    )


# -- an officer's dossiers --------------------------------------------------------------------


@router.get("/ho-so", response_class=HTMLResponse)
def dossiers(request: Request, visit: Visitor, trang: Page = 1) -> HTMLResponse:
    rows = visit.service.list_nominations(
        reader=visit.username, limit=PAGE + 1, offset=(trang - 1) * PAGE
    )
    return render.page(
        request,
        "dossiers.html",
        {"visit": visit, "rows": rows[:PAGE], "page": trang, "more": len(rows) > PAGE},
    )


def _register_form(
    request: Request,
    visit: Visit,
    values: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    units = visit.service.units()
    mine = {grant["unit"] for grant in visit.roles if grant["role"] == "officer"}
    now = visit.service.now()
    campaigns = [
        {**c, "open": parse_instant(c["registration_deadline"]) > now}
        for c in visit.service.campaigns()
    ]
    campaigns.sort(key=lambda c: not c["open"])  # open ones first, the first one chosen
    return render.page(
        request,
        "register.html",
        {
            "visit": visit,
            "campaigns": campaigns,
            "units": [u for u in units if u["code"] in mine] or units,
            "values": values or {},
            "error": error,
        },
        status,
    )


@router.get("/ho-so/dang-ky", response_class=HTMLResponse)
def register_form(request: Request, visit: Visitor) -> HTMLResponse:
    return _register_form(request, visit)


@router.post("/ho-so/dang-ky", response_model=None)
def register(
    request: Request,
    visit: Posted,
    campaign: Text = "",
    unit: Text = "",
    nominee_kind: Text = "",
    nominee_name: Text = "",
    title: Text = "",
    area: Text = "",
) -> HTMLResponse | RedirectResponse:
    values = {
        "campaign": campaign,
        "unit": unit,
        "nominee_kind": nominee_kind,
        "nominee_name": nominee_name,
        "title": title,
        "area": area,
    }
    try:
        created = visit.service.register(visit.username, **values)
    except WorkflowError as exc:
        return _register_form(request, visit, values, render.explain(exc), http_status(exc))
    return render.redirect(f"/ho-so/{created.id}", "register")


# -- an approver's inbox ----------------------------------------------------------------------


@router.get("/hop-viec", response_class=HTMLResponse)
def inbox(request: Request, visit: Visitor, trang: Page = 1) -> HTMLResponse:
    rows = visit.service.inbox(visit.username, PAGE + 1, (trang - 1) * PAGE)
    limits = visit.service.review_limits([row.id for row in rows[:PAGE]])
    return render.page(
        request,
        "inbox.html",
        {
            "visit": visit,
            "rows": rows[:PAGE],
            "limits": limits,
            "page": trang,
            "more": len(rows) > PAGE,
        },
    )


# -- one nomination: details, timeline, the forms of its next steps ----------------------------


def _nomination(
    request: Request, visit: Visit, number: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    service = visit.service
    try:
        view = service.show(number, reader=visit.username)
        history = service.history(number, reader=visit.username)
        council = service.council_status(number, reader=visit.username)
    except WorkflowError as exc:
        return _error_page(request, visit, exc)
    limit = service.review_limits([view.id]).get(view.id)
    criteria = service.criteria(view.campaign) if visit.has("approver") else []
    return render.page(
        request,
        "nomination.html",
        {
            "visit": visit,
            "n": view,
            "history": history,
            "council": council,
            "limit": limit,
            "criteria": criteria,
            "error": error,
        },
        status,
    )


@router.get("/ho-so/{number}", response_class=HTMLResponse)
def nomination(request: Request, visit: Visitor, number: Id) -> HTMLResponse:
    return _nomination(request, visit, number)


def _step(
    request: Request, visit: Visit, number: str, done: str, action: Callable[[], Any]
) -> HTMLResponse | RedirectResponse:
    try:
        action()  # the service checked `number` is a nomination id
    except WorkflowError as exc:
        return _nomination(request, visit, number, render.explain(exc), http_status(exc))
    return render.redirect(f"/ho-so/{quote(number.strip(), safe='')}", done)


@router.post("/ho-so/{number}/trien-khai", response_model=None)
def implement(request: Request, visit: Posted, number: Id) -> HTMLResponse | RedirectResponse:
    return _step(
        request, visit, number, "implement", lambda: visit.service.implement(visit.username, number)
    )


@router.post("/ho-so/{number}/bao-cao", response_model=None)
def report(request: Request, visit: Posted, number: Id) -> HTMLResponse | RedirectResponse:
    return _step(
        request, visit, number, "report", lambda: visit.service.report(visit.username, number)
    )


@router.post("/ho-so/{number}/nop-lai", response_model=None)
def resubmit(
    request: Request, visit: Posted, number: Id, note: Text = ""
) -> HTMLResponse | RedirectResponse:
    return _step(
        request,
        visit,
        number,
        "resubmit",
        lambda: visit.service.resubmit(visit.username, number, note or None),
    )


@router.post("/ho-so/{number}/rut", response_model=None)
def withdraw(
    request: Request, visit: Posted, number: Id, reason: Text = ""
) -> HTMLResponse | RedirectResponse:
    return _step(
        request,
        visit,
        number,
        "withdraw",
        lambda: visit.service.withdraw(visit.username, number, reason),
    )


@router.post("/ho-so/{number}/duyet", response_model=None)
def approve(
    request: Request, visit: Posted, number: Id, comment: Text = ""
) -> HTMLResponse | RedirectResponse:
    return _step(
        request,
        visit,
        number,
        "approve",
        lambda: visit.service.approve(visit.username, number, comment or None),
    )


@router.post("/ho-so/{number}/tra-lai", response_model=None)
def return_for_supplement(
    request: Request, visit: Posted, number: Id, reason: Text = ""
) -> HTMLResponse | RedirectResponse:
    return _step(
        request,
        visit,
        number,
        "return",
        lambda: visit.service.return_for_supplement(visit.username, number, reason),
    )


@router.post("/ho-so/{number}/tu-choi", response_model=None)
def reject(
    request: Request, visit: Posted, number: Id, reason: Text = ""
) -> HTMLResponse | RedirectResponse:
    return _step(
        request,
        visit,
        number,
        "reject",
        lambda: visit.service.reject(visit.username, number, reason),
    )


@router.post("/ho-so/{number}/bieu-quyet", response_model=None)
def vote(
    request: Request, visit: Posted, number: Id, choice: Text = "", comment: Text = ""
) -> HTMLResponse | RedirectResponse:
    if choice not in ("dong-y", "khong-dong-y"):
        return _nomination(
            request, visit, number, "Dữ liệu chưa hợp lệ: hãy chọn Đồng ý hoặc Không đồng ý.", 422
        )
    return _step(
        request,
        visit,
        number,
        "vote",
        lambda: visit.service.vote(
            visit.username, number, approve=choice == "dong-y", comment=comment or None
        ),
    )


@router.post("/ho-so/{number}/cham-diem", response_model=None)
def score(
    request: Request,
    visit: Posted,
    number: Id,
    criterion: Text = "",
    points: Text = "",
    comment: Text = "",
) -> HTMLResponse | RedirectResponse:
    if not _POINTS.fullmatch(points.strip()):
        return _nomination(
            request, visit, number, f"Dữ liệu chưa hợp lệ: điểm «{points}» không phải số.", 422
        )
    return _step(
        request,
        visit,
        number,
        "score",
        lambda: visit.service.score(
            visit.username,
            number,
            criterion=criterion,
            points=int(points.strip()),
            comment=comment or None,
        ),
    )
