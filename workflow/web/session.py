"""Who is signed in (the session cookie), and the CSRF check every form passes.

A session is a random secret in an HttpOnly, SameSite=Lax cookie; the database keeps its digest
and its CSRF token (workflow/access.py). Each POST form carries that token in a hidden field,
compared in constant time. The sign-in form, before any session exists, uses a double-submit
token: a random value set as a cookie and repeated in the form.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from workflow.access import SignedIn
from workflow.errors import Unauthenticated
from workflow.service import Service
from workflow.settings import Settings

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "BadCsrf",
    "Posted",
    "SignInRequired",
    "Visit",
    "Visitor",
    "forget",
    "remember",
    "service_of",
    "settings_of",
]

SESSION_COOKIE = "thidua_phien"
CSRF_COOKIE = "thidua_csrf"


class SignInRequired(Exception):
    """No valid session: the page answers with the sign-in form (handled in `install`)."""

    def __init__(self, path: str) -> None:
        self.path = path


class BadCsrf(Exception):
    """A form without the right CSRF token: 403, nothing done."""


@dataclass(frozen=True)
class Visit:
    """The signed-in person of one request: who, their roles, the CSRF token of their forms."""

    service: Service
    user: SignedIn
    roles: list[dict[str, Any]] = field(default_factory=list)

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def csrf(self) -> str:
        return self.user.csrf

    def has(self, role: str) -> bool:
        return any(grant["role"] == role for grant in self.roles)

    def approves_at(self, level: str) -> bool:
        """Whether they are an approver at `level` (the service still checks unit and duties)."""
        return any(g["role"] == "approver" and g["level"] == level for g in self.roles)


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _visit(request: Request) -> Visit:
    service = service_of(request)
    secret = request.cookies.get(SESSION_COOKIE, "")
    path = request.url.path
    if not secret or len(secret) > 200:
        raise SignInRequired(path)
    try:
        user = service.web_session(secret)
    except Unauthenticated:
        raise SignInRequired(path) from None
    return Visit(service, user, service.whoami(user.username)["roles"])


def visitor(request: Request) -> Visit:
    """The signed-in person of a page, or the sign-in form."""
    return _visit(request)


def same_token(sent: object, expected: str) -> bool:
    if not isinstance(sent, str) or not sent or not expected:
        return False
    return secrets.compare_digest(sent.encode(), expected.encode())


async def posted(request: Request) -> Visit:
    """The signed-in person of a form, whose CSRF token must be the session's."""
    visit = await run_in_threadpool(_visit, request)
    form = await request.form()
    if not same_token(form.get("csrf"), visit.csrf):
        raise BadCsrf
    return visit


Visitor = Annotated[Visit, Depends(visitor)]
Posted = Annotated[Visit, Depends(posted)]


def remember(response: Response, settings: Settings, name: str, value: str, hours: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def forget(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )
