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

__all__ = ["install", "page_error", "router"]

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


#: What a person who followed a wrong address, or sent a form where none is taken, reads.
_HTTP_ERRORS = {
    404: "Không tìm thấy trang này. Hãy kiểm tra lại địa chỉ, hoặc về trang chủ.",
    405: "Trang này không nhận yêu cầu như vậy. Hãy mở nó từ trình đơn.",
}


def page_error(request: Request, status: int) -> Response | None:
    """A Vietnamese page for an HTTP error of a browser's request outside the API (404, 405);
    None for the API and for clients that do not ask for HTML, which get the JSON error."""
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return None
    message = _HTTP_ERRORS.get(status, "Không thực hiện được yêu cầu này.")
    return render.page(request, "error.html", {"error": message}, status)


def install(app: FastAPI) -> None:
    """Add the web pages' routes to `app`, and their answer to a wrong address."""
    app.state.page_error = page_error
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(BadCsrf, _bad_csrf)
    app.include_router(router)
