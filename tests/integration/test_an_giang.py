"""Award rounds, from the An Giang seed: each year UBND tỉnh An Giang grants the Bằng khen to 4
collectives and 6 individuals of its administrative-reform movement, ranked by the criteria and
points Sở Nội vụ sets. On SQLite and PostgreSQL; every refusal leaves the database unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

import states
from tests.conftest import vn
from tests.integration.helpers import refused, two_tier_world
from workflow.clock import FixedClock
from workflow.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    QuotaExceeded,
    Refused,
)
from workflow.service import Service
from workflow.views import NominationView

CAMPAIGN = "AG-CCHC-2024"
FORM = "Bằng khen"

#: The provincial council: the vice-chairman, the trade union and the Fatherland Front.
COUNCIL = ["pho.ag", "hd.congdoan", "hd.mattran"]

AN_GIANG: dict[str, Any] = {
    "units": [
        {"code": "89", "name": "Tỉnh An Giang", "level": "province"},
        {
            "code": "89-SNV",
            "name": "Sở Nội vụ",
            "level": "province",
            "kind": "agency",
            "parent": "89",
        },
        {
            "code": "89-STP",
            "name": "Sở Tư pháp",
            "level": "province",
            "kind": "agency",
            "parent": "89",
        },
        {
            "code": "89-STTTT",
            "name": "Sở Thông tin và Truyền thông",
            "level": "province",
            "kind": "agency",
            "parent": "89",
        },
        {"code": "883", "name": "Thành phố Long Xuyên", "level": "district", "parent": "89"},
        {"code": "30280", "name": "Phường Mỹ Bình", "level": "commune", "parent": "883"},
        {"code": "30283", "name": "Phường Mỹ Long", "level": "commune", "parent": "883"},
    ],
    "people": [
        {
            "username": "admin.ag",
            "name": "Quản trị tỉnh",
            "roles": [{"role": "admin", "unit": "89"}],
        },
        {
            "username": "chutich.ag",
            "name": "Nguyễn Thanh Bình",
            "roles": [{"role": "approver", "unit": "89"}],
        },
        {
            "username": "pho.ag",
            "name": "Lê Văn Phước",
            "roles": [{"role": "approver", "unit": "89"}],
        },
        {
            "username": "hd.congdoan",
            "name": "Đoàn Thị Mai",
            "roles": [],
        },
        {
            "username": "hd.mattran",
            "name": "Huỳnh Văn Sơn",
            "roles": [],
        },
        {
            "username": "vp.ag",
            "name": "Văn phòng UBND tỉnh",
            "roles": [{"role": "officer", "unit": "89"}],
        },
        {
            "username": "cb.snv",
            "name": "Trần Thị Hạnh",
            "roles": [{"role": "officer", "unit": "89-SNV"}],
        },
        {
            "username": "cb.stp",
            "name": "Phạm Văn Lợi",
            "roles": [{"role": "officer", "unit": "89-STP"}],
        },
        {
            "username": "cb.stttt",
            "name": "Võ Minh Tâm",
            "roles": [{"role": "officer", "unit": "89-STTTT"}],
        },
        {
            "username": "ct.longxuyen",
            "name": "Chủ tịch Long Xuyên",
            "roles": [{"role": "approver", "unit": "883"}],
        },
        {
            "username": "ct.mybinh",
            "name": "Chủ tịch Mỹ Bình",
            "roles": [{"role": "approver", "unit": "30280"}],
        },
        {
            "username": "cb.mybinh",
            "name": "Cán bộ Mỹ Bình",
            "roles": [{"role": "officer", "unit": "30280"}],
        },
        {
            "username": "ct.mylong",
            "name": "Chủ tịch Mỹ Long",
            "roles": [{"role": "approver", "unit": "30283"}],
        },
        {
            "username": "cb.mylong",
            "name": "Cán bộ Mỹ Long",
            "roles": [{"role": "officer", "unit": "30283"}],
        },
    ],
    "campaigns": [
        {
            "code": CAMPAIGN,
            "name": "Thi đua đẩy mạnh cải cách hành chính tỉnh An Giang năm 2024",
            "issuing_unit": "89",
            "registration_deadline": "01/10/2024",
            "report_deadline": "01/12/2024",
            "criteria": [
                {"code": "ket_qua", "name": "Kết quả thực hiện nhiệm vụ CCHC", "max_points": 50},
                {
                    "code": "sang_kien",
                    "name": "Sáng kiến được Bộ Nội vụ công nhận",
                    "max_points": 30,
                },
                {"code": "lan_toa", "name": "Mức độ lan tỏa", "max_points": 20},
            ],
            "quotas": {"collective": 4, "individual": 6},
            "public_comment_forms": [FORM],
            # The provincial Hội đồng Thi đua – Khen thưởng weighs every dossier at the province.
            "councils": [{"level": "province", "members": COUNCIL, "threshold": "2/3"}],
        }
    ],
}

#: (officer, unit, kind, name); commune ones go commune → district → province.
NOMINEES = [
    ("cb.snv", "89-SNV", "collective", "Phòng Cải cách hành chính"),
    ("cb.stp", "89-STP", "collective", "Phòng Hành chính tư pháp"),
    ("cb.stttt", "89-STTTT", "collective", "Trung tâm Chuyển đổi số"),
    ("cb.mybinh", "30280", "collective", "Bộ phận Một cửa phường Mỹ Bình"),
    ("cb.mylong", "30283", "collective", "Bộ phận Một cửa phường Mỹ Long"),
    ("cb.snv", "89-SNV", "individual", "Nguyễn Văn An"),
    ("cb.snv", "89-SNV", "individual", "Lê Thị Bích"),
    ("cb.stp", "89-STP", "individual", "Trần Minh Châu"),
    ("cb.stttt", "89-STTTT", "individual", "Huỳnh Quốc Dũng"),
    ("cb.mybinh", "30280", "individual", "Đặng Thị Én"),
    ("cb.mylong", "30283", "individual", "Phan Văn Giàu"),
    ("cb.mylong", "30283", "individual", "Tô Thị Hằng"),
]
COMMUNE_APPROVER = {"30280": "ct.mybinh", "30283": "ct.mylong"}


@pytest.fixture
def an_giang(service: Service, clock: FixedClock) -> Service:
    clock.set(vn(15, 4, 2024))
    service.load(AN_GIANG, actor="admin.ag")
    return service


def province_reviewed(service: Service, clock: FixedClock) -> list[NominationView]:
    """Register, implement and report the twelve, and take each through its chain."""
    clock.set(vn(15, 4, 2024))
    views = [
        service.register(
            officer,
            campaign=CAMPAIGN,
            unit=unit,
            nominee_kind=kind,
            nominee_name=name,
            title="Đẩy mạnh cải cách hành chính",
            area="thu_tuc_hanh_chinh",
            form=FORM,
        )
        for officer, unit, kind, name in NOMINEES
    ]
    clock.set(vn(20, 10, 2024))
    done = []
    for view, (officer, unit, _, _) in zip(views, NOMINEES, strict=True):
        service.implement(officer, view.id)
        service.report(officer, view.id)
        if unit in COMMUNE_APPROVER:
            service.approve(COMMUNE_APPROVER[unit], view.id)
            service.approve("ct.longxuyen", view.id)
        service.vote("pho.ag", view.id, approve=True, comment="Đề nghị khen thưởng")
        done.append(service.vote("hd.congdoan", view.id, approve=True, comment="Nhất trí"))
    return done


#: Points per criterion for each of the twelve, in NOMINEES order (two collectives tie at 80).
POINTS = [
    (45, 25, 15),
    (40, 25, 15),
    (40, 20, 20),
    (35, 20, 10),
    (30, 15, 10),
    (48, 28, 18),
    (44, 26, 16),
    (42, 24, 14),
    (40, 22, 12),
    (38, 20, 12),
    (36, 18, 10),
    (30, 10, 5),
]


def scored(service: Service, views: list[NominationView]) -> None:
    for view, points in zip(views, POINTS, strict=True):
        for criterion, value in zip(("ket_qua", "sang_kien", "lan_toa"), points, strict=True):
            service.score("pho.ag", view.id, criterion=criterion, points=value)


def test_forms_fix_the_chain_and_nominations_come_from_departments_and_communes(
    an_giang: Service, clock: FixedClock
) -> None:
    views = province_reviewed(an_giang, clock)
    assert views[0].chain == ("province",)
    assert views[3].chain == ("commune", "district", "province")
    assert {v.state for v in views} == {"province_reviewed"}
    clock.set(vn(15, 4, 2024))
    lower = an_giang.register(
        "cb.mybinh",
        campaign=CAMPAIGN,
        unit="30280",
        nominee_kind="individual",
        nominee_name="Người được Giấy khen",
        title="Một cửa điện tử",
        area="chinh_quyen_so",
        form="Giấy khen",
    )
    # Giấy khen is granted by the district chairman: its chain stops at the district …
    assert lower.chain == ("commune", "district")
    an_giang.implement("cb.mybinh", lower.id)
    clock.set(vn(20, 10, 2024))
    an_giang.report("cb.mybinh", lower.id)
    an_giang.approve("ct.mybinh", lower.id)
    an_giang.approve("ct.longxuyen", lower.id)
    # … and the district chairman awards it, not the province.
    clock.set(vn(5, 12, 2024))
    done = an_giang.award(
        "ct.longxuyen", lower.id, number="88/QĐ-UBND", date="05/12/2024", form="Giấy khen"
    )
    assert done.state == "awarded"


def test_an_unknown_form_or_one_no_level_grants_is_refused(
    an_giang: Service, engine: sa.Engine
) -> None:
    def register(form: str) -> Any:
        return an_giang.register(
            "cb.snv",
            campaign=CAMPAIGN,
            unit="89-SNV",
            nominee_kind="collective",
            nominee_name="Phòng X",
            title="Sáng kiến",
            area="the_che",
            form=form,
        )

    refused(engine, InvalidInput, lambda: register("Huân chương Lao động"), "not an award form")
    # A provincial department cannot seek a district's Giấy khen in a provincial campaign.
    refused(engine, Refused, lambda: register("Giấy khen"), "sits above")


def test_scores_are_audited_and_refused_above_the_maximum_or_outside_the_level(
    an_giang: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    views = province_reviewed(an_giang, clock)
    target = views[3].id  # Mỹ Bình's one-stop shop, province_reviewed
    done = an_giang.score("pho.ag", target, criterion="ket_qua", points=35, comment="Tốt")
    assert done["points"] == 35
    last = an_giang.history(target)[-1]
    assert (last.trigger, last.from_state, last.to_state) == (
        "scored",
        "province_reviewed",
        "province_reviewed",
    )
    assert last.payload["criterion"] == "ket_qua" and last.payload["max_points"] == 50
    error = refused(
        engine,
        Refused,
        lambda: an_giang.score("pho.ag", target, criterion="ket_qua", points=51),
        "above the maximum of 50",
    )
    assert isinstance(error, Refused) and error.rule == "max_points"
    refused(
        engine,
        Refused,
        lambda: an_giang.score("pho.ag", target, criterion="doi_moi", points=5),
        "no criterion 'doi_moi'",
    )
    # The commune chairman's level has been passed two levels ago: outside the level.
    refused(
        engine,
        Forbidden,
        lambda: an_giang.score("ct.mybinh", target, criterion="ket_qua", points=30),
        "only an approver of the level it awaits or has just passed",
    )
    refused(
        engine,
        Forbidden,
        lambda: an_giang.score("cb.mybinh", target, criterion="ket_qua", points=30),
    )
    # A rescore replaces the current points; both stay in the history.
    an_giang.score("chutich.ag", target, criterion="ket_qua", points=40)
    scored_entries = [e for e in an_giang.history(target) if e.trigger == "scored"]
    assert [e.payload["points"] for e in scored_entries] == [35, 40]
    assert scored_entries[-1].payload["previous"] == 35


def test_ranking_per_round_and_kind_shows_ties_as_ties(
    an_giang: Service, clock: FixedClock
) -> None:
    views = province_reviewed(an_giang, clock)
    scored(an_giang, views)
    collectives = an_giang.ranking(CAMPAIGN, "2024", "collective")
    assert [(r.rank, r.total) for r in collectives] == [(1, 85), (2, 80), (2, 80), (4, 65), (5, 55)]
    assert [r.nomination for r in collectives[1:3]] == [views[1].id, views[2].id]
    individuals = an_giang.ranking(CAMPAIGN, "2024", "individual")
    assert [r.rank for r in individuals] == [1, 2, 3, 4, 5, 6, 7]
    assert individuals[0].points == {"ket_qua": 48, "lan_toa": 18, "sang_kien": 28}
    assert {r.nominee_kind for r in an_giang.ranking(CAMPAIGN)} == {"collective", "individual"}
    assert an_giang.ranking(CAMPAIGN, "2025") == []


def test_the_yearly_round_public_comment_quota_decision_and_revocation(
    an_giang: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    views = province_reviewed(an_giang, clock)
    scored(an_giang, views)
    ids = [v.id for v in views]
    collectives, individuals = ids[:5], ids[5:]

    # Bằng khen is published for comment here: no decision before publication.
    clock.set(vn(1, 11, 2024))
    error = refused(
        engine,
        Refused,
        lambda: an_giang.decide(
            "chutich.ag", collectives[:4], number="150/QĐ-UBND", date="01/11/2024", form=FORM
        ),
        "has not been published",
    )
    assert isinstance(error, Refused) and error.rule == "public_comment"
    refused(
        engine,
        Forbidden,
        lambda: an_giang.publish("ct.longxuyen", ids, form=FORM),
        "only its chairman publishes",
    )
    published = an_giang.publish("chutich.ag", ids, form=FORM)
    # Friday 1/11/2024 + 10 working days: 4/11 … 15/11, so the period ends on 16/11.
    assert published["ends_at"] == "16/11/2024 00:00"
    assert an_giang.history(ids[0])[-1].trigger == "published"

    # A decision while the period runs is refused.
    clock.set(vn(10, 11, 2024))
    refused(
        engine,
        Refused,
        lambda: an_giang.decide(
            "chutich.ag", collectives[:4], number="150/QĐ-UBND", date="10/11/2024", form=FORM
        ),
        "runs until 16/11/2024",
    )

    # An objection during it sends Mỹ Long's individual back to the province's review.
    objected = individuals[5]
    back = an_giang.object_to("vp.ag", objected, "Phản ánh của người dân: thành tích chưa đúng")
    assert back == an_giang.show(objected), "the objection returns the nomination as stored"
    assert back.state == "district_reviewed" and back.awaiting == "province"
    last = an_giang.history(objected)[-1]
    assert (last.trigger, last.from_state, last.to_state) == (
        "object",
        "province_reviewed",
        "district_reviewed",
    )
    refused(engine, Refused, lambda: an_giang.object_to("vp.ag", objected, "Lần hai"))

    # After the period: over the quota (5 collectives of 4) is refused as a whole.
    clock.set(vn(12, 12, 2024, 15))
    error = refused(
        engine,
        QuotaExceeded,
        lambda: an_giang.decide(
            "chutich.ag", collectives, number="163/QĐ-UBND", date="12/12/2024", form=FORM
        ),
        "quota is 4 with 0 awarded already: 4 remain",
    )
    assert isinstance(error, Refused) and error.rule == "quota"
    # A batch with one that is not ready (the objected one) is refused as a whole.
    refused(
        engine,
        InvalidTransition,
        lambda: an_giang.decide(
            "chutich.ag",
            [*collectives[:4], objected],
            number="163/QĐ-UBND",
            date="12/12/2024",
            form=FORM,
        ),
        "'award' needs 'province_reviewed'",
    )
    # Objections are taken only during the period.
    refused(engine, Refused, lambda: an_giang.object_to("vp.ag", ids[0], "Muộn"), "ended")

    # The top four collectives and the six remaining individuals: one decision, 4 + 6.
    ranked = an_giang.ranking(CAMPAIGN, "2024", "collective")
    top = [r.nomination for r in ranked if r.rank <= 4]
    ready = [i for i in individuals if i != objected]
    decision = an_giang.decide(
        "chutich.ag", top + ready, number="163/QĐ-UBND", date="12/12/2024", form=FORM
    )
    assert decision["nominations"] == top + ready
    for nomination in top + ready:
        view = an_giang.show(nomination)
        assert (view.state, view.award_number, view.award_form) == ("awarded", "163/QĐ-UBND", FORM)
    # The quota is spent: the fifth collective is refused.
    refused(
        engine,
        QuotaExceeded,
        lambda: an_giang.decide(
            "chutich.ag", [collectives[4]], number="164/QĐ-UBND", date="12/12/2024", form=FORM
        ),
        "0 remain",
    )

    # The objected individual is weighed again by the council, whose earlier votes no longer
    # count: the third member's vote alone does not decide it.
    assert an_giang.vote("hd.mattran", objected, approve=True).state == back.state
    decided = an_giang.vote("pho.ag", objected, approve=True)
    assert decided.state == "province_reviewed"
    assert decided == an_giang.show(objected), "the deciding vote returns the nomination as stored"

    # Revocation: the authority that granted it, with a reason and its own decision.
    revoked = ready[0]
    clock.set(vn(15, 3, 2025))
    refused(
        engine,
        Forbidden,
        lambda: an_giang.revoke(
            "ct.longxuyen", revoked, number="5/QĐ-UBND", date="15/03/2025", reason="Gian dối"
        ),
        "only the authority that granted an award revokes it",
    )
    refused(
        engine,
        InvalidTransition,
        lambda: an_giang.revoke(
            "chutich.ag", collectives[4], number="5/QĐ-UBND", date="15/03/2025", reason="X"
        ),
        "'revoke' needs 'awarded'",
    )
    refused(
        engine,
        Refused,
        lambda: an_giang.revoke(
            "chutich.ag", revoked, number="163/QĐ-UBND", date="15/03/2025", reason="X"
        ),
        "already used",
    )
    reason = "Kê khai thành tích không trung thực"
    done = an_giang.revoke(
        "chutich.ag", revoked, number="5/QĐ-UBND", date="15/03/2025", reason=reason
    )
    assert done.state == "revoked"
    assert done == an_giang.show(revoked), "the revocation returns the nomination as stored"
    last = an_giang.history(revoked)[-1]
    assert (last.trigger, last.reason, last.payload["revokes"]) == ("revoke", reason, "163/QĐ-UBND")

    # From the decision back to each dossier, its scores, sign-offs and people.
    [award] = an_giang.decision("163/QĐ-UBND")
    assert (award["kind"], award["date"], award["form"], award["signer"]) == (
        "award",
        "12/12/2024",
        FORM,
        "chutich.ag",
    )
    assert [d["nomination"]["id"] for d in award["dossiers"]] == top + ready
    first = award["dossiers"][0]
    assert {s["criterion"] for s in first["scores"]} == {"ket_qua", "sang_kien", "lan_toa"}
    assert [s["level"] for s in first["signoffs"]] == ["province"]
    assert [(v["level"], v["member"], v["vote"]) for v in first["votes"]] == [
        ("province", "pho.ag", "approve"),
        ("province", "hd.congdoan", "approve"),
    ]
    assert {"Trần Thị Hạnh", "Lê Văn Phước", "Nguyễn Thanh Bình"} <= set(first["people"])
    commune = next(d for d in award["dossiers"] if d["nomination"]["unit"] == "30280")
    assert [s["level"] for s in commune["signoffs"]] == ["commune", "district", "province"]
    [revocation] = an_giang.decision("5/QĐ-UBND")
    assert (revocation["kind"], revocation["reason"]) == ("revocation", reason)
    assert revocation["dossiers"][0]["nomination"]["state"] == "revoked"

    # The audit log verifies and replays every stored state, objection and revocation included.
    assert an_giang.verify().ok
    for nomination in ids:
        entries = [
            {
                "seq": e.seq,
                "trigger": e.trigger,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "payload": e.payload,
            }
            for e in an_giang.history(nomination)
        ]
        result = states.replay(entries)
        assert result.mismatches == []
        assert result.dossier is not None
        assert result.dossier.state == an_giang.show(nomination).state


def test_a_two_tier_campaign_in_2026_runs_commune_then_province(
    service: Service, clock: FixedClock
) -> None:
    clock.set(vn(2, 3, 2026))
    service.load(
        two_tier_world(
            province=("91", "Tỉnh An Giang"),
            commune=("30010", "Phường Long Xuyên"),
            people=[
                ("admin.91", "Quản trị", "admin", "91"),
                ("ct.91", "Chủ tịch tỉnh", "approver", "91"),
                ("ct.lx", "Chủ tịch phường", "approver", "30010"),
                ("cb.lx", "Cán bộ phường", "officer", "30010"),
            ],
            campaign={
                "code": "AG-CCHC-2026",
                "name": "Thi đua cải cách hành chính năm 2026",
                "issuing_unit": "91",
                "registration_deadline": "01/10/2026",
                "report_deadline": "01/12/2026",
                "quotas": {"collective": 4, "individual": 6},
            },
        ),
        actor="admin.91",
    )

    def register(form: str) -> NominationView:
        return service.register(
            "cb.lx",
            campaign="AG-CCHC-2026",
            unit="30010",
            nominee_kind="individual",
            nominee_name="Nguyễn Thị Mai",
            title="Dịch vụ công trực tuyến toàn trình",
            area="chinh_quyen_so",
            form=form,
        )

    view = register(FORM)
    assert view.chain == ("commune", "province")
    # Since 1/7/2025 the commune chairman grants Chiến sĩ thi đua cơ sở: a one-level chain.
    assert register("Chiến sĩ thi đua cơ sở").chain == ("commune",)
    service.implement("cb.lx", view.id)
    service.report("cb.lx", view.id)
    assert service.approve("ct.lx", view.id).state == "commune_reviewed"
    assert service.approve("ct.91", view.id).state == "province_reviewed"
    # Bằng khen is not published for comment unless the campaign says so.
    done = service.award("ct.91", view.id, number="12/QĐ-UBND", date="02/03/2026", form=FORM)
    assert done.state == "awarded"
    assert service.ranking("AG-CCHC-2026", "2026", "individual")[0].state == "awarded"


def test_a_decision_number_form_or_campaign_rule_that_does_not_fit_is_refused(
    an_giang: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    views = province_reviewed(an_giang, clock)
    clock.set(vn(1, 11, 2024))
    an_giang.publish("chutich.ag", [v.id for v in views[:2]], form=FORM)
    clock.set(vn(12, 12, 2024))
    an_giang.decide("chutich.ag", [views[0].id], number="163/QĐ-UBND", date="12/12/2024", form=FORM)
    # The same number, date and form adds to the decision; another date is another decision.
    error = refused(
        engine,
        Refused,
        lambda: an_giang.decide(
            "chutich.ag", [views[1].id], number="163/QĐ-UBND", date="11/12/2024", form=FORM
        ),
        "a new decision needs a new number",
    )
    assert isinstance(error, Refused) and error.rule == "decision_number"
    refused(
        engine,
        Refused,
        lambda: an_giang.decide(
            "chutich.ag", [views[1].id], number="170/QĐ-UBND", date="12/12/2024", form="Cờ thi đua"
        ),
        "seeks 'Bằng khen', not 'Cờ thi đua'",
    )
    an_giang.decide("chutich.ag", [views[1].id], number="163/QĐ-UBND", date="12/12/2024", form=FORM)
    [decision] = an_giang.decision("163/QĐ-UBND")
    assert [d["nomination"]["id"] for d in decision["dossiers"]] == [views[0].id, views[1].id]

    def campaign(**rules: Any) -> Callable[[], Any]:
        spec = {
            "code": "AG-X",
            "name": "X",
            "issuing_unit": "89",
            "registration_deadline": "01/10/2025",
            "report_deadline": "01/12/2025",
            **rules,
        }
        return lambda: an_giang.load({"campaigns": [spec]}, actor="admin.ag")

    refused(engine, InvalidInput, campaign(criteria=[{"code": "a", "name": "A"}]), "max_points")
    refused(
        engine,
        InvalidInput,
        campaign(criteria=[{"code": "a", "name": "A", "max_points": 0}]),
        "at least 1",
    )
    refused(engine, InvalidInput, campaign(quotas={"team": 3}), "quota kind 'team'")
    refused(engine, InvalidInput, campaign(quotas={"individual": -1}), "at least 0")
    refused(engine, InvalidInput, campaign(public_comment_forms=["Huân chương"]), "not award forms")
