"""Templates (Jinja2, shipped in the package) and how pages answer: HTML, redirects, errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from workflow.errors import NotFound, Refused, Unauthenticated, WorkflowError, http_status
from workflow.web import labels

__all__ = ["FLASHES", "explain", "page", "redirect"]

_env = Environment(
    loader=PackageLoader("workflow.web", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    state=labels.state,
    level=labels.level,
    chain=labels.chain,
    trigger=labels.trigger,
    role=labels.role,
    kind=labels.kind,
    area=labels.area,
    moment=labels.moment,
)
_env.globals.update(
    STATES=labels.STATES, KINDS=labels.NOMINEE_KINDS, AREAS=labels.AREAS, ROLES=labels.ROLES
)

#: What a page says after a form succeeded (`?ok=CODE` on the redirect): fixed sentences only.
FLASHES: dict[str, str] = {
    "register": "Đã đăng ký hồ sơ.",
    "implement": "Đã đánh dấu hồ sơ đã triển khai.",
    "report": "Đã báo cáo kết quả; hồ sơ chuyển lên cấp xét duyệt.",
    "resubmit": "Đã nộp lại hồ sơ bổ sung.",
    "withdraw": "Đã rút hồ sơ.",
    "approve": "Đã duyệt hồ sơ.",
    "return": "Đã trả lại hồ sơ để bổ sung.",
    "reject": "Đã từ chối hồ sơ.",
    "vote": "Đã ghi nhận biểu quyết.",
    "score": "Đã chấm điểm.",
    "decide": "Đã ban hành quyết định khen thưởng.",
    "signed_out": "Đã đăng xuất.",
}


def explain(error: WorkflowError) -> str:
    """A Vietnamese sentence around the service's own message (which names the values)."""
    if isinstance(error, Unauthenticated):
        lead = "Chưa xác thực"
    elif isinstance(error, Refused):
        lead = f"Không được phép (quy tắc «{error.rule}»)"
    elif isinstance(error, NotFound):
        lead = "Không tìm thấy"
    elif http_status(error) == 409:
        lead = "Trạng thái hồ sơ không cho phép thao tác này"
    elif http_status(error) == 422:
        lead = "Dữ liệu chưa hợp lệ"
    else:
        lead = "Không thực hiện được"
    return f"{lead}: {error}"


def page(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """Render `template`; every page gets the request, the flash of `?ok=` and no error."""
    values: dict[str, Any] = {
        "request": request,
        "flash": FLASHES.get(request.query_params.get("ok", "")),
        "error": None,
        "visit": None,
    }
    values.update(context)
    html = _env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def redirect(path: str, ok: str | None = None) -> RedirectResponse:
    """303 See Other to `path` (after a POST), with the success flash's code."""
    if ok is not None:
        path = f"{path}{'&' if '?' in path else '?'}ok={quote(ok)}"
    return RedirectResponse(path, status_code=303)
