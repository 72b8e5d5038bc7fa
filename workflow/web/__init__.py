"""Server-rendered Vietnamese pages: sign-in, an officer's dossiers, an approver's inbox and
sign-off, the award authority's decisions, the auditor's view.

The routes stay out of the API's OpenAPI document. Every form carries a CSRF token; a page
without a session answers with the sign-in form.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from workflow.web import audits, awards, dossiers, render, signin
from workflow.web.session import BadCsrf, SignInRequired

__all__ = ["install", "router"]

router = APIRouter(include_in_schema=False)
for part in (signin, dossiers, awards, audits):
    router.include_router(part.router)


def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if request.method == "GET":
        return RedirectResponse(f"/dang-nhap?tiep={quote(exc.path)}", status_code=303)
    return RedirectResponse("/dang-nhap", status_code=303)


def _bad_csrf(request: Request, exc: Exception) -> Response:
    return render.page(
        request,
        "error.html",
        {
            "error": "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF). "
            "Không có gì được ghi; hãy tải lại trang và thử lại."
        },
        403,
    )


def install(app: FastAPI) -> None:
    """Add the web pages' routes to `app`."""
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(BadCsrf, _bad_csrf)
    app.include_router(router)
