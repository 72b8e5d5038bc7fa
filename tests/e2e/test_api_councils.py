"""Councils and delegations through /api/v1: an admin sets a level's council, members vote
(a substitute on a member's behalf while a delegation is in force), the council status shows
the tally; delegations are made, listed and revoked by the approver who named them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import vn
from tests.e2e.api import Api, api_over, error
from tests.integration.helpers import Q12, reported_ward
from workflow.clock import FixedClock
from workflow.service import Service

COUNCIL = {"members": ["chutich.q12", "pho.q12", "hd.q12"], "threshold": "2/3"}


@pytest.fixture
def api(world: Service) -> Iterator[Api]:
    world.add_person("hd.q12", "Thành viên Hội đồng")
    world.add_person("vu.q12", "Trần Minh Vũ")
    with api_over(world) as client:
        yield client


def test_an_admin_sets_a_council_and_others_are_refused(api: Api) -> None:
    path = f"/campaigns/{Q12}/councils/district"
    error(api.put("chutich.q12", path, COUNCIL), 403, "forbidden")
    error(api.put("quantri", f"/campaigns/{Q12}/councils/galaxy", COUNCIL), 422, "invalid_input")
    error(api.put("quantri", path, {**COUNCIL, "threshold": "nhiều"}), 422, "invalid_input")
    error(api.put("quantri", path, {**COUNCIL, "members": ["khong.co"]}), 404, "not_found")
    error(api.put("quantri", path, {"members": []}), 422, "invalid_input")
    error(api.put("quantri", "/campaigns/KHONG/councils/district", COUNCIL), 404, "not_found")
    done = api.put("quantri", path, COUNCIL)
    assert done.status_code == 200, done.text
    assert done.json() == {
        "campaign": Q12,
        "level": "district",
        "members": COUNCIL["members"],
        "threshold": "2/3",
        "required": 2,
    }


def test_members_vote_and_the_status_shows_the_tally(api: Api, world: Service) -> None:
    assert api.put("quantri", f"/campaigns/{Q12}/councils/district", COUNCIL).status_code == 200
    number = reported_ward(world).id
    path = f"/nominations/{number}"
    error(api.post("chutich.q12", f"{path}/votes", {"approve": True}), 403, "refused", "council")
    world.approve("chutich.thanhxuan", number)
    status = api.get("chutich.q12", f"{path}/council").json()
    assert status["council"]["not_voted"] == COUNCIL["members"]
    assert status["council"]["tally"]["required"] == 2
    error(api.post("vu.q12", f"{path}/votes", {"approve": True}), 403, "forbidden")
    error(
        api.post("hung.thanhxuan", f"{path}/votes", {"approve": True}),
        403,
        "forbidden",
    )
    error(api.post("hd.q12", f"{path}/votes", {"approve": "có lẽ"}), 422, "invalid_input")
    voted = api.post("hd.q12", f"{path}/votes", {"approve": True, "comment": "Nhất trí"})
    assert voted.json()["state"] == "commune_reviewed"
    again = error(
        api.post("hd.q12", f"{path}/votes", {"approve": False}), 403, "refused", "vote_once"
    )
    assert "hd.q12" in again["message"]
    decided = api.post("pho.q12", f"{path}/votes", {"approve": True})
    assert decided.json()["state"] == "district_reviewed"
    status = api.get("hd.q12", f"{path}/council").json()
    assert status["council"] is None
    assert [(v["member"], v["vote"], v["comment"]) for v in status["votes"]] == [
        ("hd.q12", "approve", "Nhất trí"),
        ("pho.q12", "approve", None),
    ]
    error(api.get("hd.q12", "/nominations/999/council"), 404, "not_found")


def test_delegations_are_made_listed_used_and_revoked(
    api: Api, world: Service, clock: FixedClock
) -> None:
    body = {"to": "vu.q12", "starts": "01/06/2022", "until": "15/06/2022"}
    error(api.post("hung.thanhxuan", "/delegations", body), 403, "forbidden", "role")
    error(
        api.post("chutich.q12", "/delegations", {**body, "to": "chutich.q12"}), 422, "invalid_input"
    )
    error(
        api.post("chutich.q12", "/delegations", {**body, "until": "31/05/2022"}),
        422,
        "invalid_input",
    )
    error(api.post("chutich.q12", "/delegations", {**body, "to": "khong.co"}), 404, "not_found")
    error(
        api.post("chutich.thanhxuan", "/delegations", {**body, "unit": "26740"}),
        403,
        "forbidden",
        "unit_scope",
    )
    made = api.post("chutich.q12", "/delegations", body)
    assert made.status_code == 201, made.text
    delegation = made.json()
    assert (delegation["from"], delegation["until"], delegation["substitute"]) == (
        "01/06/2022",
        "15/06/2022",
        "vu.q12",
    )
    second = api.post(
        "chutich.q12", "/delegations", {**body, "starts": "20/06/2022", "until": "25/06/2022"}
    )
    mine = api.get("vu.q12", "/delegations", limit=1).json()
    assert ([d["id"] for d in mine["items"]], mine["next_offset"]) == ([delegation["id"]], 1)
    assert api.get("hung.thanhxuan", "/delegations").json()["items"] == []

    number = reported_ward(world).id
    world.approve("chutich.thanhxuan", number)
    clock.set(vn(2, 6))
    done = api.post("vu.q12", f"/nominations/{number}/approve", {"comment": "Thay mặt"})
    assert done.json()["state"] == "district_reviewed"

    path = f"/delegations/{delegation['id']}/revoke"
    error(api.post("vu.q12", path), 403, "forbidden", "delegation")
    error(api.post("chutich.q12", "/delegations/999/revoke"), 404, "not_found")
    error(api.post("chutich.q12", "/delegations/0/revoke"), 422, "invalid_input")
    revoked = api.post("chutich.q12", path)
    assert revoked.json()["revoked_at"] == "02/06/2022 09:00"
    error(api.post("chutich.q12", path), 409, "invalid_transition")
    assert api.post("chutich.q12", f"/delegations/{second.json()['id']}/revoke").status_code == 200
