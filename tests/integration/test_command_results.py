"""What a command returns is what a later `show` reads: built in the command's transaction.

Each nomination command returns its view from the rows it loaded and changed, without a second
read; these tests hold that view against a fresh read after every command, on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import snapshot
from tests.integration.helpers import register_ward
from workflow import audit, directory, nominations, notify
from workflow.errors import Conflict, NotFound
from workflow.service import Service
from workflow.views import NominationView


def same_as_stored(world: Service, view: NominationView) -> NominationView:
    stored = world.show(view.id)
    assert view == stored
    assert view.to_dict() == stored.to_dict()
    return view


def test_every_command_returns_the_nomination_as_stored_after_it(world: Service) -> None:
    view = same_as_stored(world, register_ward(world))
    assert (view.state, view.version, view.proposer) == ("registered", 1, "hung.thanhxuan")
    same_as_stored(world, world.implement("hung.thanhxuan", view.id))
    same_as_stored(world, world.report("hung.thanhxuan", view.id))
    returned = same_as_stored(
        world, world.return_for_supplement("chutich.thanhxuan", view.id, "Bổ sung minh chứng")
    )
    assert (returned.state, returned.returns) == ("returned", 1)
    same_as_stored(world, world.resubmit("hung.thanhxuan", view.id, "Đã bổ sung"))
    same_as_stored(world, world.approve("chutich.thanhxuan", view.id, "Đạt"))
    approved = same_as_stored(world, world.approve("chutich.q12", view.id))
    assert (approved.state, approved.awaiting, approved.version) == ("district_reviewed", None, 7)
    done = same_as_stored(
        world,
        world.award(
            "chutich.q12", view.id, number="163/QĐ-UBND", date="20/04/2022", form="Giấy khen"
        ),
    )
    assert (done.state, done.award_number, done.award_form) == (
        "awarded",
        "163/QĐ-UBND",
        "Giấy khen",
    )


def test_withdraw_and_reject_return_the_stored_nomination(world: Service) -> None:
    first = register_ward(world)
    withdrawn = same_as_stored(world, world.withdraw("hung.thanhxuan", first.id, "Rút hồ sơ"))
    assert withdrawn.state == "withdrawn"
    second = register_ward(world, name="Tổ công nghệ số")
    world.implement("hung.thanhxuan", second.id)
    world.report("hung.thanhxuan", second.id)
    rejected = same_as_stored(world, world.reject("chutich.thanhxuan", second.id, "Chưa đạt"))
    assert rejected.state == "rejected"


def test_a_nomination_changed_after_it_was_loaded_is_a_conflict_and_nothing_is_written(
    world: Service, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = register_ward(world)
    world.implement("hung.thanhxuan", view.id)
    original = nominations.officer_step

    def moved_on_meanwhile(*args: Any, **kwargs: Any) -> None:
        session = args[4]
        session.connection().execute(
            sa.text("UPDATE nominations SET version = version + 1 WHERE id = :id"),
            {"id": view.id},
        )
        original(*args, **kwargs)

    monkeypatch.setattr(nominations, "officer_step", moved_on_meanwhile)
    before = snapshot(engine)
    with pytest.raises(Conflict, match=f"nomination {view.id} was changed by someone else"):
        world.report("hung.thanhxuan", view.id)
    assert snapshot(engine) == before
    monkeypatch.setattr(nominations, "officer_step", original)
    assert same_as_stored(world, world.report("hung.thanhxuan", view.id)).version == 3


def statements_of(engine: sa.Engine, action: Callable[[], object]) -> list[str]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()[:3]))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    return [s for s in seen if not s.startswith(("BEGIN", "SELECT 1"))]


def test_a_command_reads_once_and_writes_its_row_and_its_entry_once(
    world: Service, engine: sa.Engine
) -> None:
    view = register_ward(world)
    done = statements_of(engine, lambda: world.implement("hung.thanhxuan", view.id))
    assert sorted(s.split()[0] for s in done) == ["INSERT", "SELECT", "UPDATE"]
    assert "INSERT INTO audit_log" in done
    assert "UPDATE nominations SET" in done


def test_the_actor_read_with_the_nomination_is_the_actor_read_alone(
    world: Service, engine: sa.Engine
) -> None:
    """One statement reads the acting person beside the nomination: the same person, with the
    same grants in the same order, as their own read (a person holding several roles, granted
    out of the order of their units, and one holding none)."""
    view = register_ward(world)
    world.add_person("nhieu.vaitro", "Nguyễn Thị Nhiều Vai Trò")
    for role, unit in [("approver", "761"), ("officer", "26734"), ("auditor", "79")]:
        world.grant_role("nhieu.vaitro", role, unit)
    world.add_person("khong.vaitro", "Lê Văn Không")
    with Session(engine) as session:
        for username in ("hung.thanhxuan", "chutich.thanhxuan", "nhieu.vaitro", "khong.vaitro"):
            principal, nomination, proposer = nominations.load_for(session, username, view.id)
            assert principal == directory.load_principal(session, username)
            assert (nomination.id, proposer) == (view.id, "hung.thanhxuan")
        roles = [g.role for g in directory.load_principal(session, "nhieu.vaitro").grants]
        assert roles == ["approver", "officer", "auditor"]
        session.rollback()


def test_the_approvers_read_with_the_nomination_are_the_approvers_read_alone(
    world: Service, engine: sa.Engine
) -> None:
    """The approvers over the nomination's unit at each level, read beside the nomination, are
    those a query of their own finds (a second approver at a level, one granted at two levels,
    and a level with none)."""
    view = register_ward(world)
    world.add_person("pho.chutich", "Trần Thị Phó Chủ Tịch")
    for unit in ("26734", "761"):
        world.grant_role("pho.chutich", "approver", unit)
    with Session(engine) as session:
        _, nomination, _ = nominations.load_for(session, "hung.thanhxuan", view.id)
        read_with = {
            level: notify.approvers_at(session, nomination.unit, level)
            for level in ("commune", "district", "province", "none")
        }
        session.rollback()
    with Session(engine) as session:
        unit = directory.unit_by_code(session, "26734")
        alone = {level: notify.approvers_at(session, unit, level) for level in read_with}
        deputy = directory.load_principal(session, "pho.chutich").id
    assert read_with == alone
    assert deputy in alone["commune"] and deputy in alone["district"]
    assert len(alone["commune"]) >= 2 and alone["none"] == []


def test_an_unknown_person_is_named_before_an_unknown_nomination(world: Service) -> None:
    view = register_ward(world)
    with pytest.raises(NotFound, match="no person with username 'khongco'"):
        world.implement("khongco", view.id + 1000)
    with pytest.raises(NotFound, match="no person with username 'khongco'"):
        world.implement("khongco", view.id)
    with pytest.raises(NotFound, match=f"no nomination with id {view.id + 1000}"):
        world.implement("hung.thanhxuan", view.id + 1000)


@pytest.mark.parametrize("when", ["before", "after"])
def test_another_change_to_the_nomination_before_or_after_its_save_is_still_written(
    world: Service, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    view = register_ward(world)
    original = nominations.change
    title = f"Số hoá hồ sơ (tên sửa {when})"

    def change_and_retitle(session: Any, nomination: Any, *args: Any, **kwargs: Any) -> None:
        if when == "before":
            nomination.title = title
        original(session, nomination, *args, **kwargs)
        if when == "after":
            nomination.title = title

    monkeypatch.setattr(nominations, "change", change_and_retitle)
    done = world.implement("hung.thanhxuan", view.id)
    assert (done.title, done.version) == (title, 2)
    same_as_stored(world, done)
    assert world.verify().ok


def test_record_returns_the_entry_it_wrote(world: Service, engine: sa.Engine) -> None:
    view = register_ward(world)
    returned: list[Any] = []
    original = audit.record

    def keep(*args: Any, **kwargs: Any) -> Any:
        returned.append(original(*args, **kwargs))
        return returned[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit, "record", keep)
        world.approve(
            "chutich.thanhxuan",
            world.report("hung.thanhxuan", world.implement("hung.thanhxuan", view.id).id).id,
            "Đạt",
        )
    stored = world.history(view.id)[-1]
    entry = returned[-1]
    assert (entry.seq, entry.trigger, entry.reason, entry.hash) == (
        stored.seq,
        stored.trigger,
        stored.reason,
        stored.hash,
    )
    assert json.loads(entry.payload) == stored.payload == {"level": "commune"}
    assert entry.prev_hash == world.history(view.id)[-2].hash
