"""The audit log: one entry per change in the change's transaction, append-only, verifiable."""

from __future__ import annotations

import json
import unicodedata
from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from states import replay
from tests.conftest import snapshot
from tests.integration.helpers import register_ward, replay_entries, reported_ward
from workflow import audit
from workflow.service import Service
from workflow.tables import Base


def rows(engine: sa.Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql), params))


def allow_tampering(engine: sa.Engine) -> None:
    """What an administrator with database access could do: drop the append-only triggers."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_log_no_delete")


def test_every_change_writes_exactly_one_hash_chained_entry(
    world: Service, engine: sa.Engine
) -> None:
    view = reported_ward(world)
    world.approve("chutich.thanhxuan", view.id, "Đạt yêu cầu")
    entries = rows(
        engine,
        "SELECT seq, trigger, actor_name, actor_role, actor_unit, reason, prev_hash, hash, "
        "payload FROM audit_log WHERE stream = :s ORDER BY seq",
        s=f"nomination:{view.id}",
    )
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert [e.trigger for e in entries] == ["register", "implement", "report", "approve"]
    assert entries[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(entries))
    assert (entries[3].actor_name, entries[3].actor_role, entries[3].actor_unit) == (
        "Võ Thanh Sơn",
        "approver",
        "26734",
    )
    assert entries[3].reason == "Đạt yêu cầu"
    assert json.loads(entries[0].payload)["chain"] == ["commune", "district"]
    assert world.show(view.id).version == 4
    assert world.verify().ok


def test_a_command_that_fails_after_its_entry_writes_neither(
    world: Service, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = register_ward(world)
    original = audit.record

    def record_then_fail(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise RuntimeError("the machine lost power")

    monkeypatch.setattr(audit, "record", record_then_fail)
    before = snapshot(engine)
    with pytest.raises(RuntimeError):
        world.implement("hung.thanhxuan", view.id)
    assert snapshot(engine) == before
    monkeypatch.setattr(audit, "record", original)
    assert world.implement("hung.thanhxuan", view.id).state == "implemented"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET reason = 'sửa' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"],
)
def test_audit_rows_cannot_be_updated_or_deleted(
    world: Service, engine: sa.Engine, statement: str
) -> None:
    register_ward(world)
    before = snapshot(engine)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert snapshot(engine) == before


def test_audit_log_cannot_be_truncated_on_postgresql(world: Service, engine: sa.Engine) -> None:
    if engine.dialect.name != "postgresql":
        assert rows(
            engine, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        ) == [("audit_log_no_delete",), ("audit_log_no_update",)]
        return
    register_ward(world)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE audit_log")


def test_verify_names_an_edited_entry(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    other = reported_ward(world, name="Khác")
    allow_tampering(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_log SET actor_name = 'Người khác' WHERE stream = :s AND seq = 2"),
            {"s": f"nomination:{view.id}"},
        )
    report = world.verify()
    assert not report.ok
    assert [(b.stream, b.seq) for b in report.breaks] == [(f"nomination:{view.id}", 2)]
    assert "edited" in report.breaks[0].why
    assert f"nomination:{other.id}" not in {b.stream for b in report.breaks}


def test_verify_checks_rows_the_fast_scan_leaves_to_the_reference_encoder(
    world: Service, engine: sa.Engine
) -> None:
    """A reason with quotes and a line break, and a name an administrator rewrote in NFD (the
    same text to a reader, and to the canonical encoding): verify holds; an edit is still found."""
    view = reported_ward(world)
    world.return_for_supplement(
        "chutich.thanhxuan", view.id, 'Thiếu "biên bản họp".\nBổ sung trước 15/11/2022.'
    )
    other = reported_ward(world, name="Tổ một cửa liên thông")
    assert world.verify().ok
    allow_tampering(engine)
    stream = f"nomination:{view.id}"
    with engine.begin() as connection:
        changed = connection.execute(
            sa.text("UPDATE audit_log SET actor_name = :name WHERE stream = :s AND seq = 1"),
            {"name": unicodedata.normalize("NFD", "Trần Văn Hùng"), "s": stream},
        )
        assert changed.rowcount == 1
    assert world.verify().ok
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_log SET reason = :r WHERE stream = :s AND seq = 4"),
            {"r": 'Thiếu "biên bản họp".\nBổ sung trước 30/11/2022.', "s": stream},
        )
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, 4)]
    assert "edited" in report.breaks[0].why
    assert f"nomination:{other.id}" not in {b.stream for b in report.breaks}


def test_verify_finds_a_deleted_tail_through_the_stored_version(
    world: Service, engine: sa.Engine
) -> None:
    view = reported_ward(world)
    allow_tampering(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM audit_log WHERE stream = :s AND seq = 3"),
            {"s": f"nomination:{view.id}"},
        )
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(f"nomination:{view.id}", 3)]
    assert "version 3" in report.breaks[0].why
    assert "missing" in report.breaks[0].why


def test_verify_finds_a_deleted_middle_entry(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    allow_tampering(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM audit_log WHERE stream = :s AND seq = 2"),
            {"s": f"nomination:{view.id}"},
        )
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(f"nomination:{view.id}", 3)]
    assert "missing" in report.breaks[0].why


def test_replaying_the_entries_gives_the_stored_state(world: Service, engine: sa.Engine) -> None:
    view = reported_ward(world)
    world.approve("chutich.thanhxuan", view.id)
    world.return_for_supplement("chutich.q12", view.id, "Bổ sung")
    world.resubmit("hung.thanhxuan", view.id)
    entries = replay_entries(
        rows(
            engine,
            "SELECT * FROM audit_log WHERE stream = :s ORDER BY seq",
            s=f"nomination:{view.id}",
        )
    )
    result = replay(entries)
    assert result.mismatches == []
    assert result.dossier is not None
    assert result.dossier.state == world.show(view.id).state == "commune_reviewed"


def test_history_is_the_timeline_of_entries(world: Service) -> None:
    view = reported_ward(world)
    timeline = world.history(view.id)
    assert [(e.seq, e.trigger, e.to_state) for e in timeline] == [
        (1, "register", "registered"),
        (2, "implement", "implemented"),
        (3, "report", "reported"),
    ]
    assert timeline[0].to_dict()["at_local"] == "20/04/2022 09:00:00"
    assert timeline[0].payload["nominee_name"] == "Bộ phận Một cửa"


def test_the_migrations_build_exactly_the_mapped_schema(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
