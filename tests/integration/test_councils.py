"""Council votes on An Giang's provincial campaign, on SQLite and PostgreSQL.

The province's Hội đồng Thi đua – Khen thưởng (10 members, 90 % of all members) decides the
province level; Long Xuyên's council (3 of 4) the district level. A refused vote writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from states import replay
from tests.conftest import vn
from tests.integration import an_giang
from tests.integration.an_giang import CAMPAIGN, DISTRICT_COUNCIL, PROVINCE_COUNCIL
from tests.integration.helpers import refused
from workflow.clock import FixedClock
from workflow.errors import Forbidden, InvalidInput, InvalidTransition, Refused
from workflow.service import Service


@pytest.fixture
def ag(service: Service, clock: FixedClock) -> Service:
    """An Giang loaded, councils set at province (90 %) and district (3/4), in April 2023."""
    clock.set(vn(20, 4, 2023))
    an_giang.load(service)
    service.set_council(
        "quantri.ag", campaign=CAMPAIGN, level="province", members=PROVINCE_COUNCIL, threshold="90%"
    )
    service.set_council(
        "quantri.ag", campaign=CAMPAIGN, level="district", members=DISTRICT_COUNCIL, threshold="3/4"
    )
    return service


def stream(engine: sa.Engine, nomination_id: int) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT seq, trigger, from_state, to_state, actor_name, payload, reason "
                "FROM audit_log WHERE stream = :s ORDER BY seq"
            ),
            {"s": f"nomination:{nomination_id}"},
        )
        return [
            {
                "seq": r.seq,
                "trigger": r.trigger,
                "from_state": r.from_state,
                "to_state": r.to_state,
                "actor": r.actor_name,
                "payload": json.loads(r.payload),
                "reason": r.reason,
            }
            for r in rows
        ]


def test_the_provincial_council_completes_exactly_at_nine_votes_of_ten(
    ag: Service, engine: sa.Engine
) -> None:
    view = an_giang.reported(ag)
    assert view.chain == ("province",)
    for member in PROVINCE_COUNCIL[:8]:
        view = ag.vote(member, view.id, approve=True, comment="Đồng ý")
        assert (view.state, view.awaiting) == ("reported", "province")
    status = ag.council_status(view.id)["council"]
    assert status["threshold"] == "90%"
    assert status["tally"] == {
        "members": 10,
        "required": 9,
        "approve": 8,
        "reject": 0,
        "not_voted": 2,
    }
    done = ag.vote(PROVINCE_COUNCIL[8], view.id, approve=True, comment="Đồng ý")
    assert done.state == "province_reviewed"
    last = stream(engine, view.id)[-2:]
    assert [(e["trigger"], e["from_state"], e["to_state"]) for e in last] == [
        ("voted", "reported", "reported"),
        ("approve", "reported", "province_reviewed"),
    ]
    assert last[1]["actor"] == "Lâm Văn Phúc"  # hd.taichinh, whose vote reached 9
    assert last[1]["payload"]["council"]["tally"]["approve"] == 9
    refused(
        engine,
        InvalidTransition,
        lambda: ag.vote(PROVINCE_COUNCIL[9], view.id, approve=True),
        "awaits no review",
    )


def test_the_provincial_council_rejects_once_ninety_percent_is_out_of_reach(
    ag: Service, engine: sa.Engine
) -> None:
    view = an_giang.reported(ag)
    ag.vote("hd.mattran", view.id, approve=False, comment="Chưa đủ minh chứng")
    assert ag.show(view.id).state == "reported"  # 9 of the 9 left could still approve
    done = ag.vote("hd.phunu", view.id, approve=False, comment="Không đồng ý")
    assert done.state == "rejected"  # 8 at most now: 90 % of 10 is out of reach
    last = stream(engine, view.id)[-1]
    assert (last["trigger"], last["actor"]) == ("reject", "Huỳnh Thị Mỹ Lệ")
    assert last["payload"]["council"]["tally"]["reject"] == 2


def test_three_of_four_completes_the_district_level_at_the_third_approval(ag: Service) -> None:
    view = an_giang.reported(ag, from_commune=True)
    assert view.chain == ("commune", "district", "province")
    ag.approve("chutich.mybinh", view.id, "Đề nghị")
    ag.vote("chutich.lx", view.id, approve=True)
    ag.vote("pho.lx", view.id, approve=False, comment="Cần xem lại")
    ag.vote("truongphong.lx", view.id, approve=True)
    assert ag.show(view.id).state == "commune_reviewed"  # 2 of 3, one member still to vote
    done = ag.vote("congdoan.lx", view.id, approve=True)
    assert (done.state, done.awaiting) == ("district_reviewed", "province")


def test_three_of_four_rejects_at_the_second_rejection(ag: Service) -> None:
    view = an_giang.reported(ag, from_commune=True)
    ag.approve("chutich.mybinh", view.id)
    ag.vote("chutich.lx", view.id, approve=False)
    assert ag.show(view.id).state == "commune_reviewed"
    assert ag.vote("pho.lx", view.id, approve=False).state == "rejected"


def test_a_member_voting_twice_is_refused(ag: Service, engine: sa.Engine) -> None:
    view = an_giang.reported(ag)
    ag.vote("hd.giaoduc", view.id, approve=True)
    error = refused(engine, Refused, lambda: ag.vote("hd.giaoduc", view.id, approve=False), "once")
    assert isinstance(error, Refused) and error.rule == "vote_once"


def test_a_non_member_cannot_vote(ag: Service, engine: sa.Engine) -> None:
    view = an_giang.reported(ag)
    error = refused(engine, Forbidden, lambda: ag.vote("vanphong.ag", view.id, approve=True))
    assert isinstance(error, Forbidden) and error.rule == "council_member"
    # a member of the district council is not a member of the province's
    error = refused(engine, Forbidden, lambda: ag.vote("chutich.lx", view.id, approve=True))
    assert isinstance(error, Forbidden) and error.rule == "council_member"


def test_the_proposer_cannot_vote(ag: Service, engine: sa.Engine) -> None:
    members = [*PROVINCE_COUNCIL[:9], "chau.snv"]
    ag.set_council(
        "quantri.ag", campaign=CAMPAIGN, level="province", members=members, threshold="90%"
    )
    view = an_giang.reported(ag)
    error = refused(engine, Forbidden, lambda: ag.vote("chau.snv", view.id, approve=True))
    assert isinstance(error, Forbidden) and error.rule == "separation_of_duties"
    assert "proposer" in str(error)


def test_who_signed_at_another_level_cannot_vote(ag: Service, engine: sa.Engine) -> None:
    ag.set_council(
        "quantri.ag",
        campaign=CAMPAIGN,
        level="district",
        members=["chutich.lx", "pho.lx", "truongphong.lx", "chutich.mybinh"],
        threshold="3/4",
    )
    view = an_giang.reported(ag, from_commune=True)
    ag.approve("chutich.mybinh", view.id)
    error = refused(engine, Forbidden, lambda: ag.vote("chutich.mybinh", view.id, approve=True))
    assert isinstance(error, Forbidden) and error.rule == "separation_of_duties"
    assert "commune" in str(error)


def test_a_voter_at_one_level_cannot_vote_at_the_next(ag: Service, engine: sa.Engine) -> None:
    ag.set_council(
        "quantri.ag",
        campaign=CAMPAIGN,
        level="district",
        members=["chutich.lx", "pho.lx", "hd.giaoduc"],
        threshold="2/3",
    )
    view = an_giang.reported(ag, from_commune=True)
    ag.approve("chutich.mybinh", view.id)
    ag.vote("hd.giaoduc", view.id, approve=False)
    ag.vote("chutich.lx", view.id, approve=True)
    assert ag.vote("pho.lx", view.id, approve=True).state == "district_reviewed"
    refused(engine, Forbidden, lambda: ag.vote("hd.giaoduc", view.id, approve=True))


def test_an_approver_cannot_sign_off_a_council_level_alone(ag: Service, engine: sa.Engine) -> None:
    view = an_giang.reported(ag)
    error = refused(engine, Refused, lambda: ag.approve("chutich.ag", view.id))
    assert isinstance(error, Refused) and error.rule == "council"


def test_a_vote_where_no_council_sits_is_refused(ag: Service, engine: sa.Engine) -> None:
    view = an_giang.reported(ag, from_commune=True)
    error = refused(engine, Refused, lambda: ag.vote("chutich.lx", view.id, approve=True))
    assert isinstance(error, Refused) and error.rule == "council"


def test_a_return_clears_the_votes_of_the_level(ag: Service, engine: sa.Engine) -> None:
    view = an_giang.reported(ag)
    for member in PROVINCE_COUNCIL[1:6]:
        ag.vote(member, view.id, approve=True)
    ag.return_for_supplement("chutich.ag", view.id, "Bổ sung báo cáo thành tích")
    assert stream(engine, view.id)[-1]["payload"]["cleared_votes"] == 5
    ag.resubmit("chau.snv", view.id, "Đã bổ sung")
    status = ag.council_status(view.id)
    assert status["council"]["tally"]["approve"] == 0
    assert len(status["votes"]) == 5
    assert not any(vote["counts"] for vote in status["votes"])
    for member in PROVINCE_COUNCIL[1:9]:
        assert ag.vote(member, view.id, approve=True).state == "reported"
    assert ag.vote(PROVINCE_COUNCIL[9], view.id, approve=True).state == "province_reviewed"


def test_every_vote_is_audited_and_the_log_verifies_and_replays(
    ag: Service, engine: sa.Engine
) -> None:
    view = an_giang.reported(ag, from_commune=True)
    ag.approve("chutich.mybinh", view.id)
    for member in DISTRICT_COUNCIL[:3]:
        ag.vote(member, view.id, approve=True, comment=f"Ý kiến của {member}")
    for member in PROVINCE_COUNCIL[:3]:
        ag.vote(member, view.id, approve=True)
    ag.return_for_supplement("chutich.ag", view.id, "Bổ sung")
    ag.resubmit("tho.mybinh", view.id)
    for member in PROVINCE_COUNCIL[:9]:
        ag.vote(member, view.id, approve=True)
    entries = stream(engine, view.id)
    votes = [e for e in entries if e["trigger"] == "voted"]
    assert len(votes) == 3 + 3 + 9
    assert all(e["from_state"] == e["to_state"] for e in votes)
    assert votes[0]["reason"] == "Ý kiến của chutich.lx"
    assert votes[0]["payload"]["vote"] == "approve"
    assert votes[0]["payload"]["member"] == "chutich.lx"
    assert ag.verify().ok
    result = replay(entries)
    assert result.mismatches == []
    assert result.dossier is not None
    assert result.dossier.state == ag.show(view.id).state == "province_reviewed"
    assert [e.trigger for e in ag.history(view.id)].count("voted") == 15


def test_setting_a_council_needs_an_admin_and_sound_values(ag: Service, engine: sa.Engine) -> None:
    def council(actor: str = "quantri.ag", **kwargs: Any) -> Any:
        given = {"level": "province", "members": PROVINCE_COUNCIL, "threshold": "90%"} | kwargs
        return lambda: ag.set_council(actor, campaign=CAMPAIGN, **given)

    refused(engine, Forbidden, council("chutich.ag"))
    refused(engine, InvalidInput, council(threshold="3/4"), "10")
    refused(engine, InvalidInput, council(threshold="120%"))
    refused(engine, InvalidInput, council(threshold="nine"))
    refused(engine, InvalidInput, council(members=["pho.ag", "pho.ag"]), "twice")
    refused(engine, InvalidInput, council(level="ward"))


def test_a_council_cannot_change_while_it_votes(ag: Service, engine: sa.Engine) -> None:
    view = an_giang.reported(ag)
    ag.vote("pho.ag", view.id, approve=True)
    error = refused(
        engine,
        Refused,
        lambda: ag.set_council(
            "quantri.ag",
            campaign=CAMPAIGN,
            level="province",
            members=PROVINCE_COUNCIL[:4],
            threshold="3/4",
        ),
    )
    assert isinstance(error, Refused) and error.rule == "council_in_use"
    assert str(view.id) in str(error)


def test_setting_a_council_is_audited_on_the_campaign(ag: Service, engine: sa.Engine) -> None:
    with engine.connect() as connection:
        rows = list(
            connection.execute(
                sa.text(
                    "SELECT a.trigger, a.from_state, a.to_state, a.payload FROM audit_log a "
                    "JOIN campaigns c ON a.stream = 'campaign:' || c.id "
                    "WHERE c.code = :code ORDER BY a.seq"
                ),
                {"code": CAMPAIGN},
            )
        )
    assert [(r.trigger, r.from_state, r.to_state) for r in rows] == [
        ("create", None, "open"),
        ("council_set", "open", "open"),
        ("council_set", "open", "open"),
    ]
    assert json.loads(rows[1].payload)["required"] == 9
    assert ag.verify().ok


def test_a_campaign_file_may_carry_its_councils(service: Service, clock: FixedClock) -> None:
    clock.set(vn(20, 4, 2023))
    data = {
        **an_giang.DATA,
        "campaigns": [
            {
                **an_giang.DATA["campaigns"][0],
                "councils": [
                    {"level": "province", "members": PROVINCE_COUNCIL, "threshold": "90%"},
                    {"level": "district", "members": DISTRICT_COUNCIL, "threshold": "3/4"},
                ],
            }
        ],
    }
    service.load(data, actor="quantri.ag")
    view = an_giang.reported(service)
    assert service.council_status(view.id)["council"]["tally"]["required"] == 9


def test_a_campaign_file_with_a_bad_council_loads_nothing(
    service: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    clock.set(vn(20, 4, 2023))
    campaign = {
        **an_giang.DATA["campaigns"][0],
        "councils": [{"level": "province", "members": ["chutich.ag"], "quorum": "1/1"}],
    }
    data = {**an_giang.DATA, "campaigns": [campaign]}
    refused(engine, InvalidInput, lambda: service.load(data, actor="quantri.ag"), "quorum")
