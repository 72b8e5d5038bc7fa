"""The nomination routes of /api/v1: each step's success and each of its refusals, as JSON
with a stable code and the rule; pages with next_offset. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import vn
from tests.e2e.api import Api, api_over, error
from tests.integration.helpers import Q12
from workflow.clock import FixedClock
from workflow.service import Service

WARD = {
    "campaign": Q12,
    "unit": "26734",
    "nominee_kind": "collective",
    "nominee_name": "Bộ phận Một cửa phường Thạnh Xuân",
    "title": "Số hoá hồ sơ thủ tục hành chính",
    "area": "thu_tuc_hanh_chinh",
}


@pytest.fixture
def api(world: Service) -> Iterator[Api]:
    with api_over(world) as client:
        yield client


def registered(api: Api, **changes: Any) -> dict[str, Any]:
    response = api.post("hung.thanhxuan", "/nominations", {**WARD, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def reported(api: Api, **changes: Any) -> dict[str, Any]:
    number = registered(api, **changes)["id"]
    assert api.post("hung.thanhxuan", f"/nominations/{number}/implement").status_code == 200
    response = api.post("hung.thanhxuan", f"/nominations/{number}/report")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_register_answers_201_with_the_nomination_in_nfc(api: Api) -> None:
    composed = "Bộ phận Một cửa"
    body = registered(api, nominee_name=unicodedata.normalize("NFD", composed))
    assert body["nominee_name"] == composed
    assert (body["state"], body["proposer"], body["chain"]) == (
        "registered",
        "hung.thanhxuan",
        ["commune", "district"],
    )
    assert body["updated_at_local"] == "20/04/2022 09:00"


def test_register_refusals(api: Api, clock: FixedClock) -> None:
    error(api.post("chutich.thanhxuan", "/nominations", WARD), 403, "forbidden", "role")
    error(
        api.post("hung.thanhxuan", "/nominations", {**WARD, "unit": "26740"}),
        403,
        "forbidden",
        "unit_scope",
    )
    error(
        api.post("hung.thanhxuan", "/nominations", {**WARD, "campaign": "KHONG-CO"}),
        404,
        "not_found",
    )
    body = error(
        api.post("hung.thanhxuan", "/nominations", {**WARD, "area": "khong_co"}),
        422,
        "invalid_input",
    )
    assert "khong_co" in body["message"]
    body = error(
        api.post("hung.thanhxuan", "/nominations", {**WARD, "extra": 1}), 422, "invalid_input"
    )
    assert body["details"][0]["field"] == "body.extra"
    error(
        api.post("hung.thanhxuan", "/nominations", {**WARD, "title": "a\x00b"}),
        422,
        "invalid_input",
    )
    clock.set(vn(6, 5))
    body = error(
        api.post("hung.thanhxuan", "/nominations", WARD),
        403,
        "deadline_passed",
        "registration_deadline",
    )
    assert "05/05/2022" in body["message"]


def test_officer_steps_and_their_refusals(api: Api) -> None:
    number = registered(api)["id"]
    error(api.post("hung.thanhxuan", f"/nominations/{number}/report"), 409, "invalid_transition")
    error(api.post("mai.hiepthanh", f"/nominations/{number}/implement"), 403, "forbidden")
    done = api.post("hung.thanhxuan", f"/nominations/{number}/implement")
    assert done.json()["state"] == "implemented"
    error(api.post("hung.thanhxuan", f"/nominations/{number}/implement"), 409, "invalid_transition")
    assert api.post("hung.thanhxuan", f"/nominations/{number}/report").json()["state"] == (
        "reported"
    )
    error(api.post("hung.thanhxuan", f"/nominations/{number}/withdraw", {}), 422, "invalid_input")
    error(
        api.post("hung.thanhxuan", f"/nominations/{number}/withdraw", {"reason": "  "}),
        422,
        "invalid_input",
    )
    gone = api.post("hung.thanhxuan", f"/nominations/{number}/withdraw", {"reason": "Rút"})
    assert gone.json()["state"] == "withdrawn"
    error(api.post("hung.thanhxuan", "/nominations/999999/implement"), 404, "not_found")


def test_approve_return_resubmit_reject(api: Api) -> None:
    number = reported(api)["id"]
    path = f"/nominations/{number}"
    error(api.post("hung.thanhxuan", f"{path}/approve"), 403, "forbidden", "role")
    early = error(api.post("chutich.q12", f"{path}/approve"), 409, "invalid_transition")
    assert "awaits review at 'commune'" in early["message"]
    returned = api.post("chutich.thanhxuan", f"{path}/return", {"reason": "Bổ sung minh chứng"})
    assert returned.json()["state"] == "returned"
    error(api.post("chutich.thanhxuan", f"{path}/approve"), 409, "invalid_transition")
    back = api.post("hung.thanhxuan", f"{path}/resubmit", {"comment": "Đã bổ sung"})
    assert (back.json()["state"], back.json()["returns"]) == ("reported", 1)
    once = error(
        api.post("chutich.thanhxuan", f"{path}/return", {"reason": "Lần hai"}),
        403,
        "forbidden",
        "return_once",
    )
    assert "only once" in once["message"]
    done = api.post("chutich.thanhxuan", f"{path}/approve", {"comment": "Đồng ý"})
    assert (done.json()["state"], done.json()["awaiting"]) == ("commune_reviewed", "district")
    rejected = api.post("chutich.q12", f"{path}/reject", {"reason": "Chưa tiêu biểu"})
    assert rejected.json()["state"] == "rejected"
    error(api.post("chutich.q12", f"{path}/reject", {"reason": "X"}), 409, "invalid_transition")


def test_separation_of_duties_is_a_403_with_its_rule(api: Api) -> None:
    number = reported(api)["id"]
    assert api.post("da.nang", f"/nominations/{number}/approve").status_code == 200
    body = error(
        api.post("da.nang", f"/nominations/{number}/approve"),
        403,
        "forbidden",
        "separation_of_duties",
    )
    assert "already signed at level 'commune'" in body["message"]


def test_show_history_inbox_and_pages(api: Api) -> None:
    numbers = [reported(api, nominee_name=f"Tổ {i}")["id"] for i in range(3)]
    shown = api.get("chutich.thanhxuan", f"/nominations/{numbers[0]}")
    assert shown.json()["id"] == numbers[0]
    history = api.get("chutich.thanhxuan", f"/nominations/{numbers[0]}/history", limit=2)
    body = history.json()
    assert [e["trigger"] for e in body["items"]] == ["register", "implement"]
    assert body["next_offset"] == 2
    rest = api.get(
        "chutich.thanhxuan", f"/nominations/{numbers[0]}/history", limit=2, offset=2
    ).json()
    assert [e["trigger"] for e in rest["items"]] == ["report"]
    assert rest["next_offset"] is None
    first = api.get("chutich.thanhxuan", "/nominations", limit=2).json()
    assert (len(first["items"]), first["next_offset"]) == (2, 2)
    second = api.get("chutich.thanhxuan", "/nominations", limit=2, offset=2).json()
    assert (len(second["items"]), second["next_offset"]) == (1, None)
    assert {n["id"] for n in first["items"] + second["items"]} == set(numbers)
    assert api.get("chutich.thanhxuan", "/nominations", state="registered").json()["items"] == []
    inbox = api.get("chutich.thanhxuan", "/inbox", limit=1).json()
    assert (inbox["items"][0]["id"], inbox["next_offset"]) == (numbers[0], 1)
    assert api.get("chutich.q12", "/inbox").json()["items"] == []
    error(api.get("chutich.thanhxuan", "/nominations/424242"), 404, "not_found")
    error(api.get("chutich.thanhxuan", "/nominations/424242/history"), 404, "not_found")
    error(api.get("chutich.thanhxuan", "/nominations", limit=0), 422, "invalid_input")
    error(api.get("chutich.thanhxuan", "/nominations", limit=201), 422, "invalid_input")
    error(api.get("chutich.thanhxuan", "/nominations", offset=-1), 422, "invalid_input")
