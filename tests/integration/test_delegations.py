"""Delegation on the Quận 12 sample, on SQLite and PostgreSQL: a substitute signs on an approver's
behalf within the period only, both people are recorded, separation of duties binds both."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from states import replay
from tests.conftest import vn
from tests.integration import an_giang
from tests.integration.an_giang import CAMPAIGN, PROVINCE_COUNCIL
from tests.integration.helpers import refused, reported_ward
from workflow.clock import FixedClock
from workflow.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    Refused,
)
from workflow.service import Service
from workflow.views import NominationView


def entries(engine: sa.Engine, stream: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT * FROM audit_log WHERE stream = :s ORDER BY seq"), {"s": stream}
        )
        return [
            {
                "seq": r.seq,
                "trigger": r.trigger,
                "from_state": r.from_state,
                "to_state": r.to_state,
                "actor_id": r.actor_id,
                "actor": r.actor_name,
                "payload": json.loads(r.payload),
            }
            for r in rows
        ]


def signoffs(engine: sa.Engine, nomination_id: int) -> dict[str, list[int]]:
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT signoffs FROM nominations WHERE id = :id"), {"id": nomination_id}
        ).scalar_one()
    return json.loads(value) if isinstance(value, str) else dict(value)


def person_id(engine: sa.Engine, username: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT id FROM persons WHERE username = :u"), {"u": username}
            ).scalar_one()
        )


@pytest.fixture
def q12(world: Service) -> Service:
    world.add_person("vu.q12", "Trần Minh Vũ")
    return world


def at_district(service: Service, signer: str = "chutich.thanhxuan") -> NominationView:
    view = reported_ward(service)
    return service.approve(signer, view.id, "Đạt")


def test_a_substitute_signs_off_within_the_period_and_both_are_recorded(
    q12: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = at_district(q12)
    made = q12.delegate("chutich.q12", to="vu.q12", starts="01/06/2022", until="15/06/2022")
    assert (made["delegator"], made["substitute"], made["from"], made["until"]) == (
        "chutich.q12",
        "vu.q12",
        "01/06/2022",
        "15/06/2022",
    )
    clock.set(vn(15, 6, hour=23, minute=59))
    done = q12.approve("vu.q12", view.id, "Thay mặt Chủ tịch")
    assert done.state == "district_reviewed"
    last = entries(engine, f"nomination:{view.id}")[-1]
    assert (last["trigger"], last["actor"]) == ("approve", "Trần Minh Vũ")
    assert last["payload"]["on_behalf_of"]["username"] == "chutich.q12"
    assert last["payload"]["delegation"] == made["id"]
    assert set(signoffs(engine, view.id)["district"]) == {
        person_id(engine, "chutich.q12"),
        person_id(engine, "vu.q12"),
    }
    assert [e["trigger"] for e in entries(engine, f"delegation:{made['id']}")] == ["delegate"]
    assert q12.verify().ok
    assert replay(entries(engine, f"nomination:{view.id}")).mismatches == []


@pytest.mark.parametrize(
    "moment", [vn(31, 5, hour=23, minute=59), vn(16, 6, hour=0, minute=0)], ids=["before", "after"]
)
def test_outside_the_period_the_substitute_is_refused(
    q12: Service, engine: sa.Engine, clock: FixedClock, moment: Any
) -> None:
    view = at_district(q12)
    q12.delegate("chutich.q12", to="vu.q12", starts="01/06/2022", until="15/06/2022")
    clock.set(moment)
    for action in (
        lambda: q12.approve("vu.q12", view.id),
        lambda: q12.reject("vu.q12", view.id, "Không đạt"),
    ):
        error = refused(engine, Refused, action, "15/06/2022")
        assert isinstance(error, Refused) and error.rule == "delegation"


def test_a_substitute_may_return_and_reject_on_the_delegators_behalf(
    q12: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = at_district(q12)
    q12.delegate("chutich.q12", to="vu.q12", starts="01/06/2022", until="15/06/2022")
    clock.set(vn(2, 6))
    assert q12.return_for_supplement("vu.q12", view.id, "Bổ sung").state == "returned"
    q12.resubmit("hung.thanhxuan", view.id)
    assert q12.reject("vu.q12", view.id, "Không đạt").state == "rejected"
    last = entries(engine, f"nomination:{view.id}")[-1]
    assert last["payload"]["on_behalf_of"]["username"] == "chutich.q12"


def test_a_delegator_who_signed_at_another_level_cannot_sign_through_a_substitute(
    q12: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = at_district(q12, signer="da.nang")  # approver of the ward and of the district
    q12.delegate("da.nang", to="vu.q12", starts="01/06/2022", until="15/06/2022")
    clock.set(vn(2, 6))
    error = refused(engine, Forbidden, lambda: q12.approve("vu.q12", view.id), "da.nang")
    assert isinstance(error, Forbidden) and error.rule == "separation_of_duties"


def test_a_substitute_who_signed_at_another_level_or_proposed_cannot_sign(
    q12: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = at_district(q12)
    q12.delegate("chutich.q12", to="chutich.thanhxuan", starts="01/06/2022", until="15/06/2022")
    q12.delegate("chutich.q12", to="hung.thanhxuan", starts="01/06/2022", until="15/06/2022")
    clock.set(vn(2, 6))
    for substitute, why in (("chutich.thanhxuan", "commune"), ("hung.thanhxuan", "proposer")):
        error = refused(engine, Forbidden, lambda s=substitute: q12.approve(s, view.id), why)
        assert isinstance(error, Forbidden) and error.rule == "separation_of_duties"


def test_a_delegation_limited_to_a_unit_does_not_reach_other_units(
    q12: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = at_district(q12)  # of Phường Thạnh Xuân (26734)
    q12.delegate("chutich.q12", to="vu.q12", starts="01/06/2022", until="15/06/2022", unit="26737")
    clock.set(vn(2, 6))
    error = refused(engine, Forbidden, lambda: q12.approve("vu.q12", view.id))
    assert isinstance(error, Forbidden) and error.rule == "role"


def test_a_revoked_delegation_no_longer_lets_the_substitute_sign(
    q12: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = at_district(q12)
    made = q12.delegate("chutich.q12", to="vu.q12", starts="01/06/2022", until="15/06/2022")
    clock.set(vn(2, 6))
    refused(engine, Forbidden, lambda: q12.revoke_delegation("vu.q12", made["id"]))
    assert q12.revoke_delegation("chutich.q12", made["id"])["revoked_at"] is not None
    refused(engine, InvalidTransition, lambda: q12.revoke_delegation("chutich.q12", made["id"]))
    refused(engine, NotFound, lambda: q12.revoke_delegation("chutich.q12", 999))
    error = refused(engine, Refused, lambda: q12.approve("vu.q12", view.id), "revoked")
    assert isinstance(error, Refused) and error.rule == "delegation"
    assert [e["trigger"] for e in entries(engine, f"delegation:{made['id']}")] == [
        "delegate",
        "revoke",
    ]
    assert [d["id"] for d in q12.delegations("vu.q12")] == [made["id"]]
    assert q12.verify().ok


def test_a_delegation_needs_an_approver_and_sound_values(q12: Service, engine: sa.Engine) -> None:
    def delegate(actor: str = "chutich.q12", **kwargs: str) -> Callable[[], Any]:
        given = {"to": "vu.q12", "starts": "01/06/2022", "until": "15/06/2022"} | kwargs
        return lambda: q12.delegate(actor, **given)

    refused(engine, Forbidden, delegate("hung.thanhxuan"))
    refused(engine, InvalidInput, delegate(to="chutich.q12"), "themselves")
    refused(engine, InvalidInput, delegate(until="31/05/2022"), "before it starts")
    refused(engine, InvalidInput, delegate(starts="01/03/2022", until="31/03/2022"), "passed")
    refused(engine, InvalidInput, delegate(until="31/6/2022"))
    refused(engine, Forbidden, delegate(unit="769"), "769")
    refused(engine, NotFound, delegate(to="nobody"))


def test_a_substitute_votes_for_a_council_member(
    service: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    clock.set(vn(20, 4, 2023))
    an_giang.load(service)
    service.set_council(
        "quantri.ag", campaign=CAMPAIGN, level="province", members=PROVINCE_COUNCIL, threshold="90%"
    )
    view = an_giang.reported(service)
    made = service.delegate("hd.phunu", to="thuky.hd", starts="20/04/2023", until="30/04/2023")
    service.delegate("hd.mattran", to="chau.snv", starts="20/04/2023", until="30/04/2023")
    service.vote("thuky.hd", view.id, approve=True, comment="Thay mặt thành viên")
    last = entries(engine, f"nomination:{view.id}")[-1]
    assert (last["trigger"], last["actor"]) == ("voted", "Nguyễn Thị Thư Ký")
    assert last["payload"]["member"] == "hd.phunu"
    assert last["payload"]["on_behalf_of"]["username"] == "hd.phunu"
    assert last["payload"]["delegation"] == made["id"]
    error = refused(engine, Refused, lambda: service.vote("hd.phunu", view.id, approve=False))
    assert isinstance(error, Refused) and error.rule == "vote_once"
    # the substitute proposed the nomination: separation of duties applies to them too
    error = refused(engine, Forbidden, lambda: service.vote("chau.snv", view.id, approve=True))
    assert isinstance(error, Forbidden) and error.rule == "separation_of_duties"
    clock.set(vn(1, 5, 2023))
    error = refused(
        engine,
        Refused,
        lambda: service.vote("thuky.hd", view.id, approve=True, on_behalf_of="hd.phunu"),
    )
    assert isinstance(error, Refused) and error.rule == "delegation"
