"""Who hears what: each transition writes its messages into the outbox in its own transaction,
on SQLite and PostgreSQL; a command that fails after writing them leaves none behind."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import snapshot, vn
from tests.integration.helpers import register_ward, reported_ward
from workflow import audit, nominations, notify
from workflow.clock import FixedClock
from workflow.errors import Refused
from workflow.service import Service
from workflow.tables import OutboxMessage


def heard(engine: sa.Engine, nomination_id: int) -> list[tuple[str, str]]:
    """(event, recipient's username) of a nomination's messages, in order written."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT o.event, p.username FROM outbox o JOIN persons p ON p.id = o.recipient_id "
                "WHERE o.nomination_id = :n ORDER BY o.id"
            ),
            {"n": nomination_id},
        )
        return [(event, username) for event, username in rows]


def payloads(engine: sa.Engine, event: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        return list(
            session.scalars(
                sa.select(OutboxMessage.payload)
                .where(OutboxMessage.event == event)
                .order_by(OutboxMessage.id)
            )
        )


def test_registering_and_implementing_tell_nobody(world: Service, engine: sa.Engine) -> None:
    view = register_ward(world)
    world.implement("hung.thanhxuan", view.id)
    assert heard(engine, view.id) == []


def test_a_report_tells_every_approver_of_the_ward(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    assert heard(engine, view.id) == [
        ("awaiting_review", "chutich.thanhxuan"),
        ("awaiting_review", "da.nang"),
    ]
    (payload, _) = payloads(engine, "awaiting_review")
    assert payload == {
        "nomination_id": view.id,
        "title": "Số hoá hồ sơ thủ tục hành chính",
        "nominee_name": "Bộ phận Một cửa",
        "campaign_code": "Q12-CCHC-2022",
        "campaign_name": payload["campaign_name"],
        "state": "reported",
        "level": "commune",
    }
    assert "Quận 12" in payload["campaign_name"]


def test_an_approval_to_the_next_level_tells_that_levels_approvers_but_the_actor(
    world: Service, engine: sa.Engine
) -> None:
    view = reported_ward(world)
    world.approve("chutich.thanhxuan", view.id)
    assert heard(engine, view.id)[2:] == [
        ("awaiting_review", "chutich.q12"),
        ("awaiting_review", "pho.q12"),
        ("awaiting_review", "da.nang"),
    ]
    world.approve("chutich.q12", view.id)
    assert len(heard(engine, view.id)) == 5, "the last level's approval tells no level"


def test_a_return_tells_the_proposer_and_the_resubmission_tells_the_level_again(
    world: Service, engine: sa.Engine
) -> None:
    view = reported_ward(world)
    world.return_for_supplement("chutich.thanhxuan", view.id, "Thiếu biên bản họp")
    assert heard(engine, view.id)[2:] == [("returned", "hung.thanhxuan")]
    returned = payloads(engine, "returned")[0]
    assert (returned["reason"], returned["level"], returned["state"]) == (
        "Thiếu biên bản họp",
        "commune",
        "returned",
    )
    world.resubmit("hung.thanhxuan", view.id, "Đã bổ sung")
    assert heard(engine, view.id)[3:] == [
        ("awaiting_review", "chutich.thanhxuan"),
        ("awaiting_review", "da.nang"),
    ]


def test_a_rejection_and_an_award_tell_the_proposer(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    rejected = reported_ward(world)
    world.reject("chutich.thanhxuan", rejected.id, "Không đạt tiêu chí")
    assert heard(engine, rejected.id)[-1] == ("rejected", "hung.thanhxuan")
    awarded = reported_ward(world, name="Tổ công nghệ số")
    world.approve("chutich.thanhxuan", awarded.id)
    world.approve("chutich.q12", awarded.id)
    clock.set(vn(12, 12))
    world.award(
        "chutich.q12", awarded.id, number="163/QĐ-UBND", date="12/12/2022", form="Giấy khen"
    )
    assert heard(engine, awarded.id)[-1] == ("awarded", "hung.thanhxuan")
    payload = payloads(engine, "awarded")[0]
    assert (payload["award_form"], payload["award_number"], payload["award_date"]) == (
        "Giấy khen",
        "163/QĐ-UBND",
        "12/12/2022",
    )


def test_a_withdrawal_tells_nobody(world: Service, engine: sa.Engine) -> None:
    view = register_ward(world)
    world.withdraw("hung.thanhxuan", view.id, "Trùng hồ sơ")
    assert heard(engine, view.id) == []


def test_an_expiry_through_change_tells_the_proposer(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = register_ward(world)
    clock.set(vn(1, 12, hour=0, minute=5))
    with Session(engine) as session, session.begin():
        nomination = nominations.load(session, view.id)
        nominations.change(session, nomination, "expire", audit.SYSTEM, clock.now())
    assert heard(engine, view.id) == [("expired", "hung.thanhxuan")]


def test_a_command_that_fails_after_writing_its_messages_leaves_none(
    world: Service, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = register_ward(world)
    world.implement("hung.thanhxuan", view.id)
    written: list[int] = []
    real = notify.on_transition

    def write_then_fail(session: Session, *args: Any, **kwargs: Any) -> None:
        real(session, *args, **kwargs)
        session.flush()
        written.append(session.scalar(sa.text("SELECT count(*) FROM outbox")) or 0)
        raise Refused("test", "refused after the messages were written")

    monkeypatch.setattr(notify, "on_transition", write_then_fail)
    before = snapshot(engine)
    with pytest.raises(Refused):
        world.report("hung.thanhxuan", view.id)
    assert written == [2], "the messages were in the transaction"
    assert snapshot(engine) == before


def test_a_dossier_reaching_a_council_level_tells_the_council_members_not_the_approvers(
    world: Service, engine: sa.Engine
) -> None:
    world.set_council(
        "quantri",
        campaign="Q12-CCHC-2022",
        level="district",
        members=["pho.q12", "vy.snv", "khoa.linhtrung"],
        threshold="2/3",
    )
    view = reported_ward(world)
    world.approve("chutich.thanhxuan", view.id)
    told = heard(engine, view.id)[2:]
    assert sorted(told) == [
        ("awaiting_review", "khoa.linhtrung"),
        ("awaiting_review", "pho.q12"),
        ("awaiting_review", "vy.snv"),
    ]
    assert ("awaiting_review", "chutich.q12") not in told
