"""What every route needs: the service, the acting person from the bearer token, and the
shapes of the values routes take from paths and query strings."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workflow.errors import Unauthenticated
from workflow.service import Service

__all__ = [
    "CODE_PATTERN",
    "Actor",
    "CampaignCode",
    "CodeQuery",
    "Limit",
    "NominationId",
    "Offset",
    "ServiceDep",
    "get_actor",
    "get_service",
]

_bearer = HTTPBearer(auto_error=False, description="A person's token from `thidua token create`")

#: A code, a username or a filter value: no control characters (NUL never reaches the database).
CODE_PATTERN = r"^[^\x00-\x1f\x7f]*$"


async def get_service(request: Request) -> Service:
    """Async, though it does nothing asynchronous: a plain `def` would cost a worker thread hop."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def get_actor(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The username behind `Authorization: Bearer …`; 401 without a valid token.

    It runs in a worker thread, whose context is a copy: the request's own line in the log
    reads the actor from the request's state."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("this needs 'Authorization: Bearer <token>' (thidua token create)")
    username = service.authenticate(credentials.credentials)
    structlog.contextvars.bind_contextvars(actor=username)
    request.state.actor = username
    return username


Actor = Annotated[str, Depends(get_actor)]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=2**31, description="items to skip")]
NominationId = Annotated[int, Path(ge=1, le=2**62, description="the nomination's id")]
CampaignCode = Annotated[
    str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN, description="a campaign's code")
]
CodeQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=CODE_PATTERN)]
