"""Builders for the HTTP API tests: the app over a service, a client, tokens of the sample
people, and shortcuts that call the API as one of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from workflow.server import create_app
from workflow.service import Service

API = "/api/v1"


class Api:
    """A test client with one bearer token per person, made on first use."""

    def __init__(self, service: Service, client: TestClient) -> None:
        self.service = service
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = self.service.create_token(username)["token"]
        return self.tokens[username]

    def headers(self, username: str | None) -> dict[str, str]:
        return {} if username is None else {"Authorization": f"Bearer {self.token(username)}"}

    def get(self, who: str | None, path: str, **params: Any) -> Any:
        return self.client.get(API + path, headers=self.headers(who), params=params)

    def post(self, who: str | None, path: str, body: Any = None) -> Any:
        return self.client.post(API + path, headers=self.headers(who), json=body)

    def put(self, who: str | None, path: str, body: Any = None) -> Any:
        return self.client.put(API + path, headers=self.headers(who), json=body)

    def patch(self, who: str | None, path: str, body: Any = None) -> Any:
        return self.client.patch(API + path, headers=self.headers(who), json=body)


@contextmanager
def api_over(service: Service) -> Iterator[Api]:
    with TestClient(create_app(service), raise_server_exceptions=False) as client:
        yield Api(service, client)


def error(response: Any, status: int, code: str, rule: str | None = None) -> dict[str, Any]:
    """Assert an error answer: its status, stable code, rule (403) and a request id."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code, body
    if rule is not None:
        assert body["rule"] == rule, body
    assert body["request_id"]
    assert body["message"]
    return body
