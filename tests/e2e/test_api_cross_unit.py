"""An approver of one ward reads and acts on nothing of another ward's nominations, through any
endpoint: each answers 403 (unit scope) or leaves the dossier out of its list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import vn
from tests.e2e.api import Api, api_over, error
from tests.integration.helpers import Q12, reported_ward
from workflow.clock import FixedClock
from workflow.service import Service

OUTSIDER = "chutich.thanhxuan"  # approver of Phường Thạnh Xuân (26734)
DOSSIER_STATES = ("reported", "commune_reviewed", "awarded")


@pytest.fixture
def api(world: Service) -> Iterator[Api]:
    with api_over(world) as client:
        yield client


@pytest.fixture
def hiep_thanh(world: Service, clock: FixedClock) -> dict[str, int]:
    """Phường Hiệp Thành's dossiers: one awaiting its commune, one before the district council,
    one awarded by the district; and one of Thạnh Xuân's own."""
    world.add_person("hd.q12", "Thành viên Hội đồng")
    world.set_council(
        "quantri",
        campaign=Q12,
        level="district",
        members=["chutich.q12", "pho.q12", "hd.q12"],
        threshold="2/3",
    )
    ward = {"officer": "mai.hiepthanh", "unit": "26740"}
    waiting = reported_ward(world, **ward).id
    council = reported_ward(world, **ward, name="Tổ số hoá").id
    world.approve("chutich.hiepthanh", council)
    awarded = reported_ward(world, **ward, name="Tổ một cửa").id
    world.approve("chutich.hiepthanh", awarded)
    world.vote("chutich.q12", awarded, approve=True)
    world.vote("pho.q12", awarded, approve=True)
    own = reported_ward(world).id
    clock.set(vn(5, 12))
    world.award("chutich.q12", awarded, number="99/QĐ-UBND", date="05/12/2022", form="Giấy khen")
    return {"waiting": waiting, "council": council, "awarded": awarded, "own": own}


def refused_for_scope(response: Any) -> None:
    body = error(response, 403, "forbidden", "unit_scope")
    assert "Phường Hiệp Thành (26740)" in body["message"] or "outside" in body["message"]


def refused_403(response: Any) -> None:
    """A command by an outsider: 403 by the rule that refuses them, never a wrong-state 409."""
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] in {"forbidden", "refused"}
    assert not any(f"'{state}'" in body["message"] for state in DOSSIER_STATES), body


def test_an_approver_of_one_ward_cannot_read_another_wards_dossiers(
    api: Api, hiep_thanh: dict[str, int]
) -> None:
    for number in (hiep_thanh["waiting"], hiep_thanh["council"], hiep_thanh["awarded"]):
        refused_for_scope(api.get(OUTSIDER, f"/nominations/{number}"))
        refused_for_scope(api.get(OUTSIDER, f"/nominations/{number}/history"))
        refused_for_scope(api.get(OUTSIDER, f"/nominations/{number}/council"))
    listed = api.get(OUTSIDER, "/nominations", limit=200).json()
    assert [n["id"] for n in listed["items"]] == [hiep_thanh["own"]]
    assert api.get(OUTSIDER, "/nominations", unit="26740").json()["items"] == []
    inbox = api.get(OUTSIDER, "/inbox").json()
    assert [n["id"] for n in inbox["items"]] == [hiep_thanh["own"]]
    ranking = api.get(OUTSIDER, f"/campaigns/{Q12}/ranking").json()["items"]
    assert {row["nomination"] for row in ranking} <= {hiep_thanh["own"]}
    refused_for_scope(api.get(OUTSIDER, "/decisions", number="99/QĐ-UBND"))
    # the district reads them all, and the decision with its dossier
    assert api.get("chutich.q12", f"/nominations/{hiep_thanh['waiting']}").status_code == 200
    [decision] = api.get("chutich.q12", "/decisions", number="99/QĐ-UBND").json()["items"]
    assert [d["nomination"]["id"] for d in decision["dossiers"]] == [hiep_thanh["awarded"]]


def test_an_approver_of_one_ward_cannot_act_on_another_wards_dossiers(
    api: Api, world: Service, hiep_thanh: dict[str, int]
) -> None:
    waiting, council, awarded = hiep_thanh["waiting"], hiep_thanh["council"], hiep_thanh["awarded"]
    for number in (waiting, council, awarded):
        path = f"/nominations/{number}"
        refused_403(api.post(OUTSIDER, f"{path}/approve"))
        refused_403(api.post(OUTSIDER, f"{path}/return", {"reason": "Bổ sung"}))
        refused_403(api.post(OUTSIDER, f"{path}/reject", {"reason": "Không đạt"}))
        refused_403(api.post(OUTSIDER, f"{path}/votes", {"approve": True}))
        refused_403(api.post(OUTSIDER, f"{path}/scores", {"criterion": "ket_qua", "points": 10}))
        refused_403(api.post(OUTSIDER, f"{path}/objections", {"objection": "Phản ánh"}))
        refused_403(
            api.post(
                OUTSIDER,
                f"{path}/revoke",
                {"number": "1/QĐ-UBND", "date": "05/12/2022", "reason": "Gian dối"},
            )
        )
        refused_403(
            api.post(
                OUTSIDER,
                f"{path}/award",
                {"number": "2/QĐ-UBND", "date": "05/12/2022", "form": "Giấy khen"},
            )
        )
        for step in ("implement", "report"):
            refused_403(api.post(OUTSIDER, f"{path}/{step}"))
        refused_403(api.post(OUTSIDER, f"{path}/resubmit"))
        refused_403(api.post(OUTSIDER, f"{path}/withdraw", {"reason": "Rút"}))
        refused_403(
            api.post(
                OUTSIDER,
                "/decisions",
                {
                    "nominations": [number],
                    "number": "3/QĐ-UBND",
                    "date": "05/12/2022",
                    "form": "Giấy khen",
                },
            )
        )
        refused_403(
            api.post(OUTSIDER, "/publications", {"nominations": [number], "form": "Giấy khen"})
        )
    # nothing changed
    assert world.show(waiting).state == "reported"
    assert world.show(council).state == "commune_reviewed"
    assert world.show(awarded).state == "awarded"


def test_an_auditor_exports_a_nomination_only_within_reach(
    api: Api, world: Service, hiep_thanh: dict[str, int]
) -> None:
    world.grant_role("chutich.thanhxuan", "auditor", "26734")
    own = api.get(OUTSIDER, "/audit/export", nomination=hiep_thanh["own"])
    assert own.status_code == 200
    refused_for_scope(api.get(OUTSIDER, "/audit/export", nomination=hiep_thanh["waiting"]))
    assert api.get("thanhtra.q12", "/audit/export", nomination=hiep_thanh["waiting"]).status_code
    # an approver without the auditor role exports nothing
    body = error(
        api.get("chutich.hiepthanh", "/audit/export", nomination=hiep_thanh["waiting"]),
        403,
        "forbidden",
        "role",
    )
    assert "auditor" in body["message"]
