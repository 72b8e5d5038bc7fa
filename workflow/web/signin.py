"""Sign-in and sign-out, the home page by role, and the style sheet."""

from __future__ import annotations

import math
import secrets
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.access import SESSION_HOURS, THROTTLE_ATTEMPTS
from workflow.errors import TooManyAttempts, Unauthenticated
from workflow.timeutil import format_local
from workflow.web import render
from workflow.web.session import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    BadCsrf,
    Posted,
    Visitor,
    forget,
    remember,
    same_token,
    service_of,
    settings_of,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_CSS = resources.files("workflow.web").joinpath("static/thidua.css").read_text(encoding="utf-8")


def _next_path(value: str | None) -> str:
    """Where to go after signing in: a path of this site only (never //host or a URL)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _sign_in_form(
    request: Request, username: str = "", error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(CSRF_COOKIE) or ""
    if not 20 <= len(token) <= 100:
        token = secrets.token_urlsafe(32)
    response = render.page(
        request,
        "sign_in.html",
        {
            "username": username,
            "sign_in_csrf": token,
            "next": _next_path(request.query_params.get("tiep")),
            "error": error,
        },
        status,
    )
    remember(response, settings_of(request), CSRF_COOKIE, token, 1)
    return response


@router.get("/thidua.css")
def style() -> Response:
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/dang-nhap", response_class=HTMLResponse)
def sign_in_form(request: Request) -> HTMLResponse:
    return _sign_in_form(request)


@router.post("/dang-nhap", response_model=None)
def sign_in(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    tiep: Annotated[str, Form(max_length=500)] = "/",
) -> HTMLResponse | RedirectResponse:
    if not same_token(csrf, request.cookies.get(CSRF_COOKIE, "")):
        raise BadCsrf
    service = service_of(request)
    try:
        signed = service.sign_in(username, password, request.client.host if request.client else "")
    except TooManyAttempts as exc:
        wait = max(1, math.ceil((exc.retry_at - service.now()).total_seconds()))
        page = _sign_in_form(
            request,
            username,
            f"Đã đăng nhập sai {THROTTLE_ATTEMPTS} lần liên tiếp với tên này. Vui lòng thử lại "
            f"sau {format_local(exc.retry_at)}.",
            status=429,
        )
        page.headers["Retry-After"] = str(wait)
        return page
    except Unauthenticated:
        return _sign_in_form(
            request, username, "Tên đăng nhập hoặc mật khẩu không đúng.", status=401
        )
    response = RedirectResponse(_next_path(tiep), status_code=303)
    settings = settings_of(request)
    remember(response, settings, SESSION_COOKIE, signed.secret, SESSION_HOURS)
    forget(response, settings, CSRF_COOKIE)
    return response


@router.post("/dang-xuat")
def sign_out(request: Request, visit: Posted) -> RedirectResponse:
    visit.service.sign_out(request.cookies.get(SESSION_COOKIE, ""))
    response = render.redirect("/dang-nhap", "signed_out")
    forget(response, settings_of(request), SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, visit: Visitor) -> HTMLResponse:
    return render.page(request, "home.html", {"visit": visit})
