"""Award rounds through /api/v1 in a two-tier province (2026): scores, the ranking, publication
for comment, an objection, a batch decision within the quota, a single award, the decision with
its dossiers, and a revocation — each with its refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import vn
from tests.e2e.api import Api, api_over, error
from tests.integration.helpers import two_tier_world
from workflow.clock import FixedClock
from workflow.service import Service

CAMPAIGN = "KG-CCHC-2026"
FORM = "Bằng khen"


@pytest.fixture
def ready(service: Service, clock: FixedClock) -> list[int]:
    """Two collectives and one individual of Phường Vĩnh Thanh, through both levels."""
    clock.set(vn(2, 3, 2026))
    service.load(
        two_tier_world(
            province=("91", "Tỉnh An Giang"),
            commune=("30010", "Phường Vĩnh Thanh"),
            people=[
                ("admin.91", "Quản trị", "admin", "91"),
                ("ct.91", "Chủ tịch tỉnh", "approver", "91"),
                ("vp.91", "Văn phòng tỉnh", "officer", "91"),
                ("ct.vt", "Chủ tịch phường", "approver", "30010"),
                ("cb.vt", "Cán bộ phường", "officer", "30010"),
            ],
            campaign={
                "code": CAMPAIGN,
                "name": "Thi đua cải cách hành chính năm 2026",
                "issuing_unit": "91",
                "registration_deadline": "01/10/2026",
                "report_deadline": "01/12/2026",
                "criteria": [{"code": "ket_qua", "name": "Kết quả", "max_points": 50}],
                "quotas": {"collective": 1, "individual": 1},
                "public_comment_forms": [FORM],
            },
        ),
        actor="admin.91",
    )
    numbers = []
    for kind, name in (
        ("collective", "Bộ phận Một cửa"),
        ("collective", "Tổ chuyển đổi số"),
        ("individual", "Nguyễn Thị Mai"),
    ):
        view = service.register(
            "cb.vt",
            campaign=CAMPAIGN,
            unit="30010",
            nominee_kind=kind,
            nominee_name=name,
            title="Dịch vụ công trực tuyến toàn trình",
            area="chinh_quyen_so",
            form=FORM,
        )
        service.implement("cb.vt", view.id)
        service.report("cb.vt", view.id)
        service.approve("ct.vt", view.id)
        service.approve("ct.91", view.id)
        numbers.append(view.id)
    return numbers


@pytest.fixture
def api(service: Service, ready: list[int]) -> Iterator[Api]:
    with api_over(service) as client:
        yield client


def test_scores_and_the_ranking(api: Api, ready: list[int]) -> None:
    first, second, _individual = ready
    path = f"/nominations/{first}/scores"
    done = api.post("ct.91", path, {"criterion": "ket_qua", "points": 40, "comment": "Tốt"})
    assert done.json() == {"nomination": first, "criterion": "ket_qua", "points": 40}
    api.post("ct.91", f"/nominations/{second}/scores", {"criterion": "ket_qua", "points": 45})
    body = error(
        api.post("ct.91", path, {"criterion": "ket_qua", "points": 51}),
        403,
        "refused",
        "max_points",
    )
    assert "above the maximum of 50" in body["message"]
    error(api.post("ct.91", path, {"criterion": "khac", "points": 5}), 403, "refused", "criterion")
    error(api.post("cb.vt", path, {"criterion": "ket_qua", "points": 5}), 403, "forbidden")
    error(api.post("ct.91", path, {"criterion": "ket_qua"}), 422, "invalid_input")
    error(api.post("ct.91", path, {"criterion": "ket_qua", "points": 2**40}), 422, "invalid_input")
    error(
        api.post("ct.91", "/nominations/999/scores", {"criterion": "ket_qua", "points": 1}),
        404,
        "not_found",
    )
    rows = api.get("ct.vt", f"/campaigns/{CAMPAIGN}/ranking", kind="collective").json()["items"]
    assert [(r["nomination"], r["rank"], r["total"]) for r in rows] == [
        (second, 1, 45),
        (first, 2, 40),
    ]
    assert rows[1]["points"] == {"ket_qua": 40}
    page = api.get("ct.91", f"/campaigns/{CAMPAIGN}/ranking", limit=2).json()
    assert page["next_offset"] == 2
    assert [r["nomination"] for r in page["items"]] == [second, first]
    error(api.get("ct.91", "/campaigns/KHONG/ranking"), 404, "not_found")


def test_publication_objection_decision_quota_award_and_revocation(
    api: Api, ready: list[int], clock: FixedClock
) -> None:
    first, second, person = ready
    decide = {"nominations": [first], "number": "15/QĐ-UBND", "date": "02/03/2026", "form": FORM}
    body = error(api.post("ct.91", "/decisions", decide), 403, "refused", "public_comment")
    assert "has not been published" in body["message"]
    error(
        api.post("ct.vt", "/publications", {"nominations": ready, "form": FORM}), 403, "forbidden"
    )
    error(
        api.post("ct.91", "/publications", {"nominations": [], "form": FORM}), 422, "invalid_input"
    )
    published = api.post("ct.91", "/publications", {"nominations": ready, "form": FORM})
    assert published.status_code == 201, published.text
    assert published.json()["nominations"] == ready
    ends = published.json()["ends_at"]
    error(
        api.post("ct.91", "/publications", {"nominations": [first], "form": FORM}),
        403,
        "refused",
        "public_comment",
    )

    objected = api.post("vp.91", f"/nominations/{second}/objections", {"objection": "Phản ánh"})
    assert (objected.json()["state"], objected.json()["awaiting"]) == (
        "commune_reviewed",
        "province",
    )
    error(
        api.post("vp.91", f"/nominations/{second}/objections", {"objection": " "}),
        422,
        "invalid_input",
    )
    body = error(api.post("ct.91", "/decisions", decide), 403, "refused", "public_comment")
    assert ends in body["message"]

    clock.set(vn(1, 4, 2026))
    error(
        api.post("vp.91", f"/nominations/{first}/objections", {"objection": "Muộn"}),
        403,
        "refused",
        "public_comment",
    )
    mixed = {**decide, "nominations": [first, second], "date": "01/04/2026"}
    error(api.post("ct.91", "/decisions", mixed), 409, "invalid_transition")
    error(api.post("ct.91", "/decisions", {**decide, "date": "1 tháng 4"}), 422, "invalid_input")
    error(api.post("ct.vt", "/decisions", {**decide, "date": "01/04/2026"}), 403, "forbidden")
    made = api.post("ct.91", "/decisions", {**decide, "date": "01/04/2026"})
    assert made.status_code == 201, made.text
    assert made.json() == {
        "decision": "15/QĐ-UBND",
        "date": "01/04/2026",
        "form": FORM,
        "nominations": [first],
    }

    assert (
        api.post("ct.91", f"/nominations/{second}/approve").json()["state"] == "province_reviewed"
    )
    over = {**decide, "nominations": [second], "number": "16/QĐ-UBND", "date": "01/04/2026"}
    body = error(api.post("ct.91", "/decisions", over), 403, "quota_exceeded", "quota")
    assert "0 remain" in body["message"]

    award = {"number": "17/QĐ-UBND", "date": "01/04/2026", "form": FORM}
    error(api.post("ct.vt", f"/nominations/{person}/award", award), 403, "forbidden")
    error(
        api.post("ct.91", f"/nominations/{person}/award", {**award, "form": "Cờ thi đua"}),
        403,
        "refused",
    )
    awarded = api.post("ct.91", f"/nominations/{person}/award", award).json()
    assert (awarded["state"], awarded["award_number"], awarded["award_date"]) == (
        "awarded",
        "17/QĐ-UBND",
        "01/04/2026",
    )
    error(
        api.post("ct.91", f"/nominations/{person}/award", {**award, "number": "18/QĐ-UBND"}),
        409,
        "invalid_transition",
    )

    [decision] = api.get("ct.vt", "/decisions", number="15/QĐ-UBND").json()["items"]
    assert (decision["kind"], decision["signer"], decision["issuing_unit"]) == (
        "award",
        "ct.91",
        "91",
    )
    assert decision["dossiers"][0]["nomination"]["id"] == first
    assert decision["dossiers"][0]["nomination"]["nominee_name"] == "Bộ phận Một cửa"
    error(api.get("ct.91", "/decisions", number="99/QĐ-UBND"), 404, "not_found")
    error(api.get("ct.91", "/decisions"), 422, "invalid_input")

    revoke = {"number": "20/QĐ-UBND", "date": "01/05/2026", "reason": "Kê khai không trung thực"}
    clock.set(vn(1, 5, 2026))
    error(api.post("ct.vt", f"/nominations/{first}/revoke", revoke), 403, "forbidden", "role")
    error(
        api.post("ct.91", f"/nominations/{first}/revoke", {**revoke, "number": "15/QĐ-UBND"}),
        403,
        "refused",
        "decision_number",
    )
    error(api.post("ct.91", f"/nominations/{second}/revoke", revoke), 409, "invalid_transition")
    revoked = api.post("ct.91", f"/nominations/{first}/revoke", revoke)
    assert revoked.json()["state"] == "revoked"
    error(
        api.post("ct.91", f"/nominations/{first}/revoke", {**revoke, "number": "21/QĐ-UBND"}),
        409,
        "invalid_transition",
    )
    [revocation] = api.get("ct.91", "/decisions", number="20/QĐ-UBND").json()["items"]
    assert (revocation["kind"], revocation["reason"]) == ("revocation", revoke["reason"])
