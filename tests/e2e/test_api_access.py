"""Who may call /api/v1: bearer tokens (401 without one, with a bad or revoked one), /me, the
OpenAPI document, and the JSON errors of the edges: malformed JSON, unknown route, bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.api import API, Api, api_over, error
from workflow.service import Service


@pytest.fixture
def api(world: Service) -> Iterator[Api]:
    with api_over(world) as client:
        yield client


PROTECTED = [
    ("GET", "/me"),
    ("GET", "/nominations"),
    ("GET", "/inbox"),
    ("GET", "/campaigns"),
    ("GET", "/units"),
    ("GET", "/audit/verify"),
    ("GET", "/notifications"),
    ("GET", "/deadlines"),
    ("GET", "/delegations"),
    ("POST", "/nominations/1/approve"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_without_a_valid_token_every_route_answers_401(api: Api, method: str, path: str) -> None:
    client = api.client
    for headers in (
        {},
        {"Authorization": "Bearer thd_not-a-real-token"},
        {"Authorization": "Bearer something-else"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ):
        response = client.request(method, API + path, headers=headers)
        body = error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "token" in body["message"].lower()


def test_a_revoked_token_is_refused(api: Api, world: Service) -> None:
    made = world.create_token("lan.pnv", name="máy trạm")
    headers = {"Authorization": f"Bearer {made['token']}"}
    assert api.client.get(API + "/me", headers=headers).json()["username"] == "lan.pnv"
    world.revoke_token(made["id"])
    body = error(api.client.get(API + "/me", headers=headers), 401, "unauthenticated")
    assert "revoked" in body["message"]


def test_me_names_the_person_and_their_roles(api: Api) -> None:
    body = api.get("chutich.thanhxuan", "/me").json()
    assert body["username"] == "chutich.thanhxuan"
    assert [(r["role"], r["unit"], r["level"]) for r in body["roles"]] == [
        ("approver", "26734", "commune")
    ]
    assert body["roles"][0]["unit_name"] == "Phường Thạnh Xuân"


def test_the_openapi_document_is_served_and_names_every_route(api: Api) -> None:
    document = api.client.get(API + "/openapi.json").json()
    assert document["info"]["title"] == "thidua"
    paths = document["paths"]
    for path in (
        "/api/v1/nominations/{nomination_id}/approve",
        "/api/v1/campaigns/{code}/ranking",
        "/api/v1/audit/export",
        "/api/v1/nominations/{nomination_id}/votes",
        "/api/v1/delegations",
        "/api/v1/notifications/{notification_id}/retry",
    ):
        assert path in paths
    responses = paths["/api/v1/nominations/{nomination_id}/approve"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(responses)
    assert "bearer" in str(document["components"]["securitySchemes"]).lower()
    assert api.client.get(API + "/docs").status_code == 200


def test_malformed_json_is_400_and_a_wrong_shape_is_422(api: Api) -> None:
    headers = {**api.headers("chutich.thanhxuan"), "Content-Type": "application/json"}
    response = api.client.post(
        API + "/nominations/1/return", content=b'{"reason": "x",', headers=headers
    )
    body = error(response, 400, "bad_request")
    assert "not valid JSON" in body["message"]
    response = api.client.post(API + "/nominations/1/return", json=["x"], headers=headers)
    error(response, 422, "invalid_input")
    response = api.client.post(API + "/nominations/1/return", json={"reason": 5}, headers=headers)
    body = error(response, 422, "invalid_input")
    assert body["details"] == [
        {"field": "body.reason", "problem": "Input should be a valid string"}
    ]


def test_ids_beyond_range_and_nul_bytes_are_422_not_500(api: Api) -> None:
    who = "chutich.thanhxuan"
    error(api.get(who, f"/nominations/{2**64}"), 422, "invalid_input")
    error(api.get(who, "/nominations/0"), 422, "invalid_input")
    error(api.get(who, "/nominations/abc"), 422, "invalid_input")
    error(api.get(who, "/nominations", campaign="Q12\x00"), 422, "invalid_input")
    error(api.post(who, "/nominations/1/return", {"reason": "a\x00"}), 422, "invalid_input")


def test_an_unknown_route_or_method_is_json(api: Api) -> None:
    body = error(api.get("chutich.thanhxuan", "/khong-co"), 404, "not_found")
    assert body["message"] == "Not Found"
    response = api.client.delete(API + "/nominations", headers=api.headers("lan.pnv"))
    error(response, 405, "method_not_allowed")


def test_every_answer_carries_a_request_id(api: Api) -> None:
    response = api.client.get(
        API + "/me", headers={**api.headers("lan.pnv"), "X-Request-ID": "r-1"}
    )
    assert response.headers["X-Request-ID"] == "r-1"
    response = api.client.get(API + "/me", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["X-Request-ID"] != "bad id with spaces"
    assert response.json()["request_id"] == response.headers["X-Request-ID"]
