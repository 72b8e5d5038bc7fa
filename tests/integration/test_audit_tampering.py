"""Tampering as a database administrator could do it, and how verify (and a checkpoint) finds it.

Each test drops the append-only triggers first, changes the log directly in SQL, and checks that
the report names the stream, the entry and why.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.helpers import reported_ward
from tests.integration.test_audit import allow_tampering
from workflow import audit
from workflow.encoding import at_text
from workflow.errors import Refused
from workflow.service import Service


def execute(engine: sa.Engine, sql: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(sql), params)


def insert(engine: sa.Engine, values: dict[str, Any]) -> None:
    columns, marks = ", ".join(values), ", ".join(f":{key}" for key in values)
    execute(engine, f"INSERT INTO audit_log ({columns}) VALUES ({marks})", **values)


def entries(engine: sa.Engine, stream: str) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.text("SELECT * FROM audit_log WHERE stream = :s ORDER BY seq"), {"s": stream}
            )
        )


def reference_hash(row: Any, prev: str) -> str:
    """What an administrator with thidua's source would compute for a forged or edited row."""
    at = datetime.fromisoformat(at_text(row.at).replace("Z", "+00:00"))
    fields = audit.entry_fields(
        stream=row.stream,
        seq=row.seq,
        at=at,
        actor=audit.Actor(row.actor_id, row.actor_name, row.actor_role, row.actor_unit),
        trigger=row.trigger,
        from_state=row.from_state,
        to_state=row.to_state,
        reason=row.reason,
        payload=json.loads(row.payload),
        definition_version=row.definition_version,
        prev_hash=prev,
    )
    return audit.hash_fields(fields)


def breaks(service: Service) -> list[tuple[str, int | None]]:
    return [(b.stream, b.seq) for b in service.verify().breaks]


@pytest.fixture
def two(world: Service, engine: sa.Engine) -> tuple[str, str]:
    """Two reported nominations (three entries each); the first is the one tampered with."""
    first = reported_ward(world)
    other = reported_ward(world, name="Tổ một cửa liên thông")
    allow_tampering(engine)
    return f"nomination:{first.id}", f"nomination:{other.id}"


def rewrite_from(engine: sa.Engine, stream: str, first: int) -> None:
    """Recompute the hash chain from entry `first` on, and the object's head: a full recompute."""
    prev = audit.GENESIS
    for row in entries(engine, stream):
        if row.seq >= first:
            new = reference_hash(row, prev)
            execute(
                engine,
                "UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i",
                p=prev,
                h=new,
                i=row.id,
            )
            prev = new
        else:
            prev = row.hash
    execute(
        engine,
        "UPDATE nominations SET last_hash = :h WHERE id = :i",
        h=prev,
        i=int(stream.split(":")[1]),
    )


def test_an_edited_field_is_named_as_edited(world: Service, engine: sa.Engine, two: Any) -> None:
    stream, other = two
    execute(
        engine,
        "UPDATE audit_log SET reason = 'Đã sửa' WHERE stream = :s AND seq = 2",
        s=stream,
    )
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, 2)]
    assert "edited" in report.breaks[0].why
    assert report.breaks[0].entry_id is not None
    assert other not in {b.stream for b in report.breaks}


def test_an_entry_inserted_in_the_middle_is_named_as_inserted(
    world: Service, engine: sa.Engine, two: Any
) -> None:
    stream, _ = two
    second = entries(engine, stream)[1]
    execute(engine, "UPDATE audit_log SET seq = 4 WHERE stream = :s AND seq = 3", s=stream)
    forged = second._asdict() | {
        "id": 1000,
        "seq": 3,
        "reason": "Chèn thêm",
        "prev_hash": second.hash,
    }
    insert(engine, forged)
    row = entries(engine, stream)[2]
    execute(
        engine,
        "UPDATE audit_log SET hash = :h WHERE id = 1000",
        h=reference_hash(row, second.hash),
    )
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, 4)]
    assert "inserted" in report.breaks[0].why
    assert "entry 3 already follows" in report.breaks[0].why


def test_an_entry_appended_without_its_object_is_named_as_inserted(
    world: Service, engine: sa.Engine, two: Any
) -> None:
    stream, _ = two
    last = entries(engine, stream)[-1]
    forged = last._asdict() | {"id": 1000, "seq": 4, "trigger": "scored", "prev_hash": last.hash}
    forged["from_state"] = forged["to_state"] = last.to_state
    insert(engine, forged)
    row = entries(engine, stream)[-1]
    execute(
        engine, "UPDATE audit_log SET hash = :h WHERE id = 1000", h=reference_hash(row, last.hash)
    )
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, 4)]
    assert "inserted" in report.breaks[0].why


def test_a_deleted_entry_is_named_as_missing(world: Service, engine: sa.Engine, two: Any) -> None:
    stream, _ = two
    execute(engine, "DELETE FROM audit_log WHERE stream = :s AND seq = 2", s=stream)
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, 3)]
    assert "entry 2 is missing" in report.breaks[0].why


def test_two_swapped_entries_are_named_as_reordered(
    world: Service, engine: sa.Engine, two: Any
) -> None:
    stream, _ = two
    execute(engine, "UPDATE audit_log SET seq = 99 WHERE stream = :s AND seq = 2", s=stream)
    execute(engine, "UPDATE audit_log SET seq = 2 WHERE stream = :s AND seq = 3", s=stream)
    execute(engine, "UPDATE audit_log SET seq = 3 WHERE stream = :s AND seq = 99", s=stream)
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, 2)]
    assert "reordered" in report.breaks[0].why


def test_swapped_rows_keeping_their_sequence_are_named_as_reordered(
    world: Service, engine: sa.Engine, two: Any
) -> None:
    stream, _ = two
    rows = entries(engine, stream)
    execute(engine, "UPDATE audit_log SET id = 999 WHERE id = :i", i=rows[1].id)
    execute(engine, "UPDATE audit_log SET id = :n WHERE id = :i", n=rows[1].id, i=rows[2].id)
    execute(engine, "UPDATE audit_log SET id = :n WHERE id = 999", n=rows[2].id)
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, 3)]
    assert "reordered" in report.breaks[0].why


def test_an_edited_nomination_state_is_named(world: Service, engine: sa.Engine, two: Any) -> None:
    stream, _ = two
    execute(
        engine,
        "UPDATE nominations SET state = 'awarded' WHERE id = :i",
        i=int(stream.split(":")[1]),
    )
    report = world.verify()
    assert [(b.stream, b.seq) for b in report.breaks] == [(stream, None)]
    assert "replay to 'reported'" in report.breaks[0].why


# -- what only a checkpoint shows -------------------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path) -> tuple[str, str]:
    from workflow.checkpoints import keygen

    private, public = keygen(tmp_path / "keys")
    return str(private), str(public)


def test_a_cut_tail_passes_verify_alone_and_is_named_against_a_checkpoint(
    world: Service, engine: sa.Engine, two: Any, keys: tuple[str, str], tmp_path: Path
) -> None:
    stream, _ = two
    checkpoint = str(tmp_path / "checkpoint.json")
    world.checkpoint(keys[0], checkpoint)
    second = entries(engine, stream)[1]
    execute(engine, "DELETE FROM audit_log WHERE stream = :s AND seq = 3", s=stream)
    execute(
        engine,
        "UPDATE nominations SET version = 2, last_hash = :h, state = 'implemented', "
        "awaiting = NULL WHERE id = :i",
        h=second.hash,
        i=int(stream.split(":")[1]),
    )
    assert world.verify().ok
    report = world.verify_checkpoint(checkpoint, keys[1])
    named = [(b.stream, b.seq) for b in report.breaks]
    assert (stream, 3) in named
    assert ("log", None) in named
    assert any("tail was cut" in b.why for b in report.breaks)


def test_a_recomputed_chain_passes_verify_alone_and_is_named_against_a_checkpoint(
    world: Service, engine: sa.Engine, two: Any, keys: tuple[str, str], tmp_path: Path
) -> None:
    stream, other = two
    checkpoint = str(tmp_path / "checkpoint.json")
    world.checkpoint(keys[0], checkpoint)
    execute(
        engine,
        "UPDATE audit_log SET actor_name = 'Người khác' WHERE stream = :s AND seq = 2",
        s=stream,
    )
    rewrite_from(engine, stream, 2)
    assert world.verify().ok
    report = world.verify_checkpoint(checkpoint, keys[1])
    assert [(b.stream, b.seq) for b in report.breaks] == [("log", None), (stream, 3)]
    assert "recomputed" in report.breaks[1].why
    assert other not in {b.stream for b in report.breaks}


def test_a_log_that_grew_after_its_checkpoint_extends_it(
    world: Service, engine: sa.Engine, keys: tuple[str, str], tmp_path: Path
) -> None:
    view = reported_ward(world)
    checkpoint = str(tmp_path / "checkpoint.json")
    world.checkpoint(keys[0], checkpoint)
    world.approve("chutich.thanhxuan", view.id, "Đạt yêu cầu")
    reported_ward(world, name="Tổ mới")
    report = world.verify_checkpoint(checkpoint, keys[1])
    assert report.ok, report.breaks


def test_a_checkpoint_signed_by_an_untrusted_key_is_refused(
    world: Service, keys: tuple[str, str], tmp_path: Path
) -> None:
    from workflow.checkpoints import keygen

    reported_ward(world)
    stranger, _ = keygen(tmp_path / "stranger")
    checkpoint = str(tmp_path / "checkpoint.json")
    world.checkpoint(str(stranger), checkpoint)
    with pytest.raises(Refused, match="not signed by the trusted key") as refused:
        world.verify_checkpoint(checkpoint, keys[1])
    assert refused.value.rule == "untrusted_checkpoint"


def test_a_checkpoint_edited_after_signing_is_refused(
    world: Service, keys: tuple[str, str], tmp_path: Path
) -> None:
    reported_ward(world)
    checkpoint = tmp_path / "checkpoint.json"
    world.checkpoint(keys[0], str(checkpoint))
    data = json.loads(checkpoint.read_text(encoding="utf-8"))
    data["statement"]["count"] -= 1
    checkpoint.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(Refused, match="not signed by the trusted key"):
        world.verify_checkpoint(str(checkpoint), keys[1])


def test_a_scheduled_checkpoint_job_writes_a_checkpoint_that_verifies(
    world: Service, db_url: str, keys: tuple[str, str], tmp_path: Path
) -> None:
    from workflow.checkpoints import scheduled_checkpoint

    reported_ward(world)
    written = Path(scheduled_checkpoint(db_url, keys[0], str(tmp_path / "checkpoints")))
    assert written.parent == tmp_path / "checkpoints"
    assert written.name.startswith("checkpoint-")
    assert json.loads(written.read_text(encoding="utf-8"))["statement"]["count"] == 5
    assert world.verify_checkpoint(str(written), keys[1]).ok
