"""Deadlines on SQLite and PostgreSQL: exact instants, the sweep, reminders, review time limits.

The sweep runs as of an instant (`Service.tick(now)`), so every case is exact and instant.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from states import replay
from tests.conftest import snapshot, vn
from tests.integration.helpers import HCM, Q12, register_ward, replay_entries, reported_ward
from workflow import deadlines, lease
from workflow.clock import FixedClock
from workflow.errors import DeadlinePassed, Forbidden, InvalidInput, StaleLease
from workflow.service import Service

REPORT_DEADLINE = vn(1, 12, 2022, 0, 0)


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def stream(engine: sa.Engine, name: str) -> list[Any]:
    return rows(engine, "SELECT * FROM audit_log WHERE stream = :s ORDER BY seq", s=name)


def outbox(engine: sa.Engine, event: str) -> list[Any]:
    return rows(engine, "SELECT * FROM outbox WHERE event = :e ORDER BY key", e=event)


def open_nominations(world: Service) -> tuple[int, int, int]:
    """One registered, one implemented, one reported nomination of the Quận 12 campaign."""
    registered = register_ward(world, name="Tổ dân phố 1").id
    implemented = register_ward(world, name="Tổ dân phố 2").id
    world.implement("hung.thanhxuan", implemented)
    reported = reported_ward(world, name="Tổ dân phố 3").id
    return registered, implemented, reported


def test_registration_one_second_before_the_deadline_counts_and_at_it_is_refused(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    clock.set(vn(4, 5, 2022, 23, 59, 59))
    assert register_ward(world).state == "registered"
    clock.set(vn(5, 5, 2022, 0, 0, 0))
    before = snapshot(engine)
    with pytest.raises(DeadlinePassed, match="05/05/2022 00:00"):
        register_ward(world)
    assert snapshot(engine) == before


def test_a_report_one_second_after_the_deadline_is_refused_though_no_sweep_ran(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    view = register_ward(world)
    world.implement("hung.thanhxuan", view.id)
    clock.set(REPORT_DEADLINE + timedelta(seconds=1))
    before = snapshot(engine)
    with pytest.raises(DeadlinePassed, match="01/12/2022 00:00"):
        world.report("hung.thanhxuan", view.id)
    assert snapshot(engine) == before
    assert world.show(view.id).state == "implemented"


def test_the_report_deadline_expires_open_nominations_with_a_system_entry_each(
    world: Service, engine: sa.Engine
) -> None:
    registered, implemented, reported = open_nominations(world)
    hcm = register_ward(world, campaign=HCM, officer="khoa.linhtrung", unit="26800").id
    assert world.tick(REPORT_DEADLINE - timedelta(seconds=1))["expired"] == 0
    result = world.tick(REPORT_DEADLINE)
    assert result["expired"] == 3  # both campaigns end on 01/12/2022
    assert [world.show(n).state for n in (registered, implemented, reported, hcm)] == [
        "expired",
        "expired",
        "reported",
        "expired",
    ]
    last = stream(engine, f"nomination:{implemented}")[-1]
    assert (last.seq, last.trigger, last.from_state, last.to_state) == (
        3,
        "expire",
        "implemented",
        "expired",
    )
    assert (last.actor_id, last.actor_name, last.actor_role) == (None, "thidua", "system")
    assert world.history(implemented)[-1].at == REPORT_DEADLINE
    report = world.verify()
    assert report.ok, report.breaks
    entries = replay_entries(stream(engine, f"nomination:{registered}"))
    replayed = replay(entries)
    assert replayed.mismatches == []
    assert replayed.dossier is not None and replayed.dossier.state == "expired"
    messages = outbox(engine, "expired")
    expected = sorted(f"expired:{n}" for n in (registered, implemented, hcm))
    assert [m.key for m in messages] == expected
    payload = messages[0].payload
    payload = json.loads(payload) if isinstance(payload, str) else payload
    assert set(payload) == {
        "nomination_id",
        "title",
        "nominee_name",
        "campaign_code",
        "campaign_name",
        "state",
        "deadline",
    }
    assert payload["state"] == "expired"


def test_sweeping_twice_writes_nothing_the_second_time(world: Service, engine: sa.Engine) -> None:
    open_nominations(world)
    world.tick(REPORT_DEADLINE)
    before = snapshot(engine)
    result = world.tick(REPORT_DEADLINE + timedelta(hours=1))
    assert (result["expired"], result["closed"], result["reminders"]) == (0, [], 0)
    assert snapshot(engine) == before


def test_two_sweeps_at_once_expire_each_nomination_once(
    world: Service, engine: sa.Engine, db_url: str
) -> None:
    ids = [register_ward(world, name=f"Tổ {n}").id for n in range(40)]
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            deadlines.run_due(engine, REPORT_DEADLINE, batch=7)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    counts = rows(
        engine,
        "SELECT stream, count(*) FROM audit_log WHERE trigger = 'expire' GROUP BY stream",
    )
    assert sorted(stream for stream, _ in counts) == sorted(f"nomination:{n}" for n in ids)
    assert {n for _, n in counts} == {1}
    assert world.verify().ok


def test_a_sweep_with_a_stale_fencing_counter_writes_nothing(
    world: Service, engine: sa.Engine
) -> None:
    open_nominations(world)
    start = vn(30, 11, 2022, 23, 0)
    first = lease.acquire(engine, "old", timedelta(seconds=30), start)
    assert first is not None and first.fencing == 1
    assert lease.acquire(engine, "new", timedelta(seconds=30), start) is None
    second = lease.acquire(engine, "new", timedelta(seconds=30), start + timedelta(seconds=31))
    assert second is not None and second.fencing == 2
    assert lease.renew(engine, first, timedelta(seconds=30), start) is None
    before = snapshot(engine)
    with pytest.raises(StaleLease, match="fencing counter 2, not 1"):
        deadlines.run_due(engine, REPORT_DEADLINE, fencing=first.fencing)
    assert snapshot(engine) == before
    assert deadlines.run_due(engine, REPORT_DEADLINE, fencing=second.fencing).expired == 2


def test_the_registration_deadline_closes_the_campaign_with_an_audited_entry(
    world: Service, engine: sa.Engine
) -> None:
    campaign_id = rows(engine, "SELECT id FROM campaigns WHERE code = :c", c=Q12)[0][0]
    assert world.tick(vn(4, 5, 2022, 23, 59, 59))["closed"] == []
    assert world.tick(vn(5, 5, 2022, 0, 0))["closed"] == [Q12, HCM]
    entries = stream(engine, f"campaign:{campaign_id}")
    assert [(e.trigger, e.from_state, e.to_state, e.actor_role) for e in entries] == [
        ("create", None, "open", "admin"),
        ("close_registration", "open", "registration_closed", "system"),
    ]
    assert world.verify().ok


def test_a_changed_deadline_is_audited_and_never_revives_an_expired_nomination(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    registered, _implemented, _reported = open_nominations(world)
    world.tick(REPORT_DEADLINE)
    clock.set(vn(2, 12, 2022))
    changed = world.set_deadlines("quantri", Q12, report="31/12/2022", review_days=5)
    assert changed["report_deadline"] == "31/12/2022 00:00"
    assert world.show(registered).state == "expired"
    assert world.tick(vn(2, 12, 2022))["expired"] == 0
    campaign_id = rows(engine, "SELECT id FROM campaigns WHERE code = :c", c=Q12)[0][0]
    last = stream(engine, f"campaign:{campaign_id}")[-1]
    assert (last.trigger, last.from_state, last.to_state) == (
        "deadline_changed",
        "registration_closed",
        "registration_closed",
    )
    assert json.loads(last.payload)["changed"]["review_days"] == [10, 5]
    assert world.campaigns()[0]["report_deadline"] == "31/12/2022 00:00"
    assert world.verify().ok


def test_a_passed_registration_deadline_cannot_move_and_nothing_is_written(
    world: Service, engine: sa.Engine, clock: FixedClock
) -> None:
    clock.set(vn(6, 5, 2022))
    before = snapshot(engine)
    with pytest.raises(DeadlinePassed, match="can no longer be moved"):
        world.set_deadlines("quantri", Q12, registration="20/05/2022")
    with pytest.raises(Forbidden):
        world.set_deadlines("hung.thanhxuan", Q12, report="20/12/2022")
    with pytest.raises(InvalidInput, match="must come after"):
        world.set_deadlines("quantri", Q12, report="01/05/2022")
    assert snapshot(engine) == before


def test_a_late_review_is_marked_overdue_once_and_escalated_to_the_level_above(
    world: Service, engine: sa.Engine
) -> None:
    view = reported_ward(world)  # reaches the commune level on Wednesday 20/04/2022 09:00
    # 10 working days: 21, 22, 25–29 Apr, (30/4, 1–3/5 off), 4, 5, 6 May: late from 07/05 00:00.
    due = vn(7, 5, 2022, 0, 0)
    assert world.tick(due - timedelta(seconds=1))["overdue"] == 0
    assert world.tick(due)["overdue"] == 1
    assert world.show(view.id).state == "reported"
    last = stream(engine, f"nomination:{view.id}")[-1]
    assert (last.trigger, last.from_state, last.to_state, last.actor_role) == (
        "marked_overdue",
        "reported",
        "reported",
        "system",
    )
    assert json.loads(last.payload)["level"] == "commune"
    [escalation] = world.escalations()
    assert (escalation["level"], escalation["to_level"], escalation["to_unit"]) == (
        "commune",
        "district",
        "761",
    )
    assert escalation["due"] == "07/05/2022 00:00"
    overdue = outbox(engine, "overdue")
    assert [m.key for m in overdue] == [f"overdue:{view.id}:commune:3"]
    escalated = outbox(engine, "escalated")
    approvers = {
        r[0]
        for r in rows(
            engine,
            "SELECT g.person_id FROM role_grants g JOIN units u ON u.id = g.unit_id "
            "WHERE g.role = 'approver' AND u.code = '761'",
        )
    }
    assert {m.recipient_id for m in escalated} == approvers
    before = snapshot(engine)
    assert world.tick(due + timedelta(days=3))["overdue"] == 0
    assert snapshot(engine) == before
    assert world.verify().ok


def test_a_review_that_moved_on_starts_a_new_time_limit_at_the_next_level(
    world: Service, clock: FixedClock
) -> None:
    view = reported_ward(world)
    clock.set(vn(6, 5, 2022, 16, 0))  # Friday, the commune's last working day
    world.approve("chutich.thanhxuan", view.id)
    assert world.tick(vn(7, 5, 2022, 0, 0))["overdue"] == 0
    # District from Friday 06/05 16:00: 9–13, 16–20 May; late from Saturday 21/05 00:00.
    assert world.tick(vn(20, 5, 2022, 23, 59))["overdue"] == 0
    assert world.tick(vn(21, 5, 2022, 0, 0))["overdue"] == 1
    [escalation] = world.escalations()
    assert (escalation["level"], escalation["to_level"], escalation["to_unit"]) == (
        "district",
        "district",
        "761",
    )


def test_reminders_go_to_officers_with_pending_work_once_per_offset(
    world: Service, engine: sa.Engine
) -> None:
    open_nominations(world)
    assert world.tick(vn(23, 11, 2022, 23, 59))["reminders"] == 0
    assert world.tick(vn(24, 11, 2022, 0, 0))["reminders"] >= 1
    assert world.tick(vn(24, 11, 2022, 6, 0))["reminders"] == 0
    seven = outbox(engine, "reminder")
    person = rows(engine, "SELECT id FROM persons WHERE username = 'hung.thanhxuan'")[0][0]
    [mine] = [m for m in seven if m.recipient_id == person]
    payload = mine.payload if isinstance(mine.payload, dict) else json.loads(mine.payload)
    assert mine.key.endswith(f":report:7:{person}")
    assert (payload["deadline_kind"], payload["pending"], payload["campaign_code"]) == (
        "report",
        2,
        Q12,
    )
    assert world.tick(vn(30, 11, 2022, 0, 0))["reminders"] >= 1
    assert {r["to"] for r in world.reminders(Q12)} == {"hung.thanhxuan"}
    assert len(world.reminders(Q12)) == 2


def test_the_registration_reminder_reaches_officers_under_the_issuing_unit(
    world: Service, engine: sa.Engine
) -> None:
    register_ward(world)
    world.tick(vn(28, 4, 2022, 0, 0))
    reached = {(r["campaign"], r["to"], r["pending"]) for r in world.reminders()}
    assert (Q12, "mai.hiepthanh", 1) in reached
    assert (Q12, "hung.thanhxuan", 0) in reached
    assert all(r["kind"] == "registration" for r in world.reminders())


def test_deadlines_lists_what_is_due_next_in_vietnam_time(
    world: Service, clock: FixedClock
) -> None:
    reported_ward(world)
    due = world.deadlines()
    assert due[0]["at"] == "28/04/2022 00:00"
    assert (due[0]["status"], due[0]["what"]) == ("upcoming", "reminder")
    assert due[0]["detail"] == "7 day(s) before the registration deadline"
    whats = [(d["at"], d["what"], d["campaign"]) for d in due]
    assert ("05/05/2022 00:00", "registration deadline", Q12) in whats
    assert ("07/05/2022 00:00", "review time limit", Q12) in whats
    assert ("01/12/2022 00:00", "report deadline", Q12) in whats
    clock.set(vn(8, 5, 2022))
    due = world.deadlines()
    assert due[0]["status"] == "due"
    assert {d["what"] for d in due if d["status"] == "due"} == {
        "registration deadline",
        "review time limit",
    }
