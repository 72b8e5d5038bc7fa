"""Campaigns, units and deadlines through /api/v1: lists in pages, creation and deadline
changes by admins only, and escalations, reminders and review time limits shown only to those
who may read the nominations behind them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import vn
from tests.e2e.api import Api, api_over, error
from tests.integration.helpers import HCM, Q12, reported_ward
from workflow.service import Service

NEW: dict[str, Any] = {
    "code": "Q12-CDS-2022",
    "name": "Thi đua chuyển đổi số Quận 12 năm 2022",
    "issuing_unit": "761",
    "registration_deadline": "01/06/2022",
    "report_deadline": "01/12/2022",
    "tiers": ["commune", "district", "province"],
}


@pytest.fixture
def api(world: Service) -> Iterator[Api]:
    with api_over(world) as client:
        yield client


def test_campaigns_and_units_are_listed_in_pages(api: Api) -> None:
    first = api.get("hung.thanhxuan", "/campaigns", limit=1).json()
    assert [c["code"] for c in first["items"]] == [Q12]
    assert first["next_offset"] == 1
    second = api.get("hung.thanhxuan", "/campaigns", limit=1, offset=1).json()
    assert ([c["code"] for c in second["items"]], second["next_offset"]) == ([HCM], None)
    assert first["items"][0]["registration_deadline"] == "05/05/2022 00:00"
    shown = api.get("hung.thanhxuan", f"/campaigns/{Q12}").json()
    assert shown == first["items"][0]
    error(api.get("hung.thanhxuan", "/campaigns/KHONG-CO"), 404, "not_found")
    units = api.get("hung.thanhxuan", "/units", limit=2).json()
    assert [(u["code"], u["depth"]) for u in units["items"]] == [("79", 0), ("769", 1)]
    assert units["next_offset"] == 2
    everything = api.get("hung.thanhxuan", "/units").json()["items"]
    ward = next(u for u in everything if u["code"] == "26734")
    assert (ward["name"], ward["level"], ward["depth"]) == ("Phường Thạnh Xuân", "commune", 2)


def test_an_admin_creates_a_campaign_and_others_are_refused(api: Api) -> None:
    error(api.post("chutich.q12", "/campaigns", NEW), 403, "forbidden", "role")
    body = error(
        api.post("quantri", "/campaigns", {**NEW, "issuing_unit": "79"}),
        403,
        "forbidden",
        "role",
    )
    assert "Thành phố Hồ Chí Minh (79)" in body["message"]
    made = api.post("quantri", "/campaigns", NEW)
    assert made.status_code == 201, made.text
    assert made.json()["code"] == NEW["code"]
    assert made.json()["report_deadline"] == "01/12/2022 00:00"
    error(api.post("quantri", "/campaigns", NEW), 422, "invalid_input")
    bad = {**NEW, "code": "X-2", "report_deadline": "01/01/2022"}
    assert (
        "must come after"
        in error(api.post("quantri", "/campaigns", bad), 422, "invalid_input")["message"]
    )
    error(api.post("quantri", "/campaigns", {**NEW, "colour": "đỏ"}), 422, "invalid_input")
    error(api.post("quantri", "/campaigns", {"code": "X"}), 422, "invalid_input")


def test_deadlines_move_by_an_admin_with_an_audit_entry(api: Api, world: Service) -> None:
    error(
        api.patch("chutich.q12", f"/campaigns/{Q12}/deadlines", {"report": "15/12/2022"}),
        403,
        "forbidden",
    )
    error(
        api.patch("quantri", f"/campaigns/{Q12}/deadlines", {"report": "31/02/2022"}),
        422,
        "invalid_input",
    )
    error(
        api.patch("quantri", "/campaigns/KHONG/deadlines", {"report": "1/12/2022"}),
        404,
        "not_found",
    )
    moved = api.patch(
        "quantri",
        f"/campaigns/{Q12}/deadlines",
        {"report": "15/12/2022", "review_days": 5, "reminder_days": [3, 1]},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "campaign": Q12,
        "registration_deadline": "05/05/2022 00:00",
        "report_deadline": "15/12/2022 00:00",
        "review_days": 5,
        "reminder_days": [3, 1],
    }
    assert world.campaign(Q12)["report_deadline"] == "15/12/2022 00:00"


def test_review_time_limits_and_escalations_show_only_readable_nominations(
    api: Api, world: Service
) -> None:
    mine = reported_ward(world).id
    other = reported_ward(world, officer="mai.hiepthanh", unit="26740").id
    limits = [
        d["detail"]
        for d in api.get("chutich.thanhxuan", "/deadlines", limit=200).json()["items"]
        if d["what"] == "review time limit"
    ]
    assert [text.split()[1] for text in limits] == [str(mine)]
    every = [
        d["detail"]
        for d in api.get("chutich.q12", "/deadlines", limit=200).json()["items"]
        if d["what"] == "review time limit"
    ]
    assert sorted(text.split()[1] for text in every) == sorted([str(mine), str(other)])
    page = api.get("chutich.q12", "/deadlines", limit=2).json()
    assert (len(page["items"]), page["next_offset"]) == (2, 2)
    world.tick(vn(7, 5, 2022, 0, 0))
    assert [e["nomination"] for e in api.get("chutich.q12", "/escalations").json()["items"]] == [
        mine,
        other,
    ]
    mine_only = api.get("chutich.thanhxuan", "/escalations", campaign=Q12).json()["items"]
    assert [(e["nomination"], e["level"], e["to_unit"]) for e in mine_only] == [
        (mine, "commune", "761")
    ]
    assert api.get("chutich.linhtrung", "/escalations").json()["items"] == []


def test_reminders_go_to_their_recipients_and_auditors_see_all(api: Api, world: Service) -> None:
    world.register(
        "hung.thanhxuan",
        campaign=Q12,
        unit="26734",
        nominee_kind="collective",
        nominee_name="Tổ chưa báo cáo",
        title="Mô hình",
        area="the_che",
    )
    world.tick(vn(24, 11, 2022))
    every = api.get("thanhtra.q12", "/reminders", campaign=Q12).json()["items"]
    assert every and {r["kind"] for r in every} <= {"registration", "report"}
    recipients = {r["to"] for r in every}
    assert "hung.thanhxuan" in recipients
    own = api.get("hung.thanhxuan", "/reminders").json()["items"]
    assert own and {r["to"] for r in own} == {"hung.thanhxuan"}
    assert api.get("chutich.linhtrung", "/reminders").json()["items"] == [
        r for r in every if r["to"] == "chutich.linhtrung"
    ]
