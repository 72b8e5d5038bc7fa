"""What every route needs: the service, and the acting person from the bearer token."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from workflow.errors import Unauthenticated
from workflow.service import Service

__all__ = ["Actor", "Limit", "Offset", "ServiceDep", "get_actor", "get_service"]

_bearer = HTTPBearer(auto_error=False, description="A person's token from `thidua token create`")


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
