"""The award authority's ready list, with the ranking and the quota, and the batch decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import states
from workflow.errors import WorkflowError, http_status
from workflow.timeutil import format_date, local_date
from workflow.web import render
from workflow.web.session import Posted, Visit, Visitor

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=200)]


def _ready(
    request: Request,
    visit: Visit,
    values: dict[str, object] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    service = visit.service
    campaigns = service.ready_for_award(visit.username)
    for item in campaigns:
        ready = {view.id for view in item["nominations"]}
        item["ranking"] = [
            row for row in service.ranking(item["campaign"]) if row.nomination in ready
        ]
    today = format_date(local_date(service.now()))
    return render.page(
        request,
        "awards.html",
        {
            "visit": visit,
            "campaigns": campaigns,
            "forms": states.FORMS,
            "values": values or {"date": today, "chosen": []},
            "error": error,
        },
        status,
    )


@router.get("/khen-thuong", response_class=HTMLResponse)
def ready(request: Request, visit: Visitor) -> HTMLResponse:
    return _ready(request, visit)


@router.post("/khen-thuong", response_model=None)
def decide(
    request: Request,
    visit: Posted,
    number: Text = "",
    date: Text = "",
    form: Text = "",
    nomination: Annotated[list[str] | None, Form(max_length=500)] = None,
) -> HTMLResponse | RedirectResponse:
    chosen = nomination or []
    values: dict[str, object] = {"number": number, "date": date, "form": form, "chosen": chosen}
    if not chosen:
        return _ready(
            request, visit, values, "Dữ liệu chưa hợp lệ: hãy chọn ít nhất một hồ sơ.", 422
        )
    try:
        visit.service.decide(visit.username, chosen, number=number, date=date, form=form)
    except WorkflowError as exc:
        return _ready(request, visit, values, render.explain(exc), http_status(exc))
    return render.redirect("/khen-thuong", "decide")
