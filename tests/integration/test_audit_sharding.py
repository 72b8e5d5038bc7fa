"""Verify and replay with worker processes, each one share of the streams, report what one
process reports: the same breaks, the same replayed states, every stream read exactly once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.helpers import reported_ward
from tests.integration.test_audit import allow_tampering
from tests.integration.test_audit_tampering import execute
from workflow import sharding
from workflow.scanning import share_where
from workflow.service import Service

TAMPERINGS = {
    "an edited field": "UPDATE audit_log SET reason = 'Đã sửa' WHERE stream = :s AND seq = 2",
    "a deleted middle entry": "DELETE FROM audit_log WHERE stream = :s AND seq = 2",
    "a deleted tail": "DELETE FROM audit_log WHERE stream = :s AND seq = 3",
    "an edited stored state": (
        "UPDATE nominations SET state = 'implemented' WHERE 'nomination:' || id = :s"
    ),
}


@pytest.fixture
def three(world: Service, engine: sa.Engine) -> list[str]:
    """Three reported nominations, so that both shares of two hold at least one."""
    views = [reported_ward(world, name=f"Tổ một cửa số {k}") for k in range(3)]
    allow_tampering(engine)
    return [f"nomination:{view.id}" for view in views]


def breaks(service: Service, workers: int) -> list[tuple[str, int | None, int | None, str]]:
    report = service.verify(workers=workers)
    return sorted((b.stream, b.seq, b.entry_id, b.why) for b in report.breaks)


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_verify_with_two_workers_names_the_same_breaks_as_one_process(
    world: Service, engine: sa.Engine, three: list[str], tampering: str
) -> None:
    for stream in three[:2]:  # one stream of each share
        execute(engine, TAMPERINGS[tampering], s=stream)
    alone = breaks(world, 1)
    assert {b[0] for b in alone} == set(three[:2])
    assert breaks(world, 2) == alone


def test_verify_with_two_workers_counts_every_entry_and_stream_once(
    world: Service, three: list[str]
) -> None:
    alone, shared = world.verify(), world.verify(workers=2)
    assert shared.ok and alone.ok
    assert (shared.entries, shared.streams) == (alone.entries, alone.streams)


def test_verify_with_two_workers_shows_the_progress_of_both(
    world: Service, three: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("workflow.verifying.PROGRESS_EVERY", 1)  # the workers fork with it
    monkeypatch.setattr("workflow.sharding.PROGRESS_EVERY", 1)
    seen: list[int] = []
    report = world.verify(seen.append, workers=2)
    assert seen == list(range(1, report.entries + 1))


def test_replay_with_two_workers_gives_the_same_report(
    world: Service, engine: sa.Engine, three: list[str]
) -> None:
    execute(engine, TAMPERINGS["an edited stored state"], s=three[1])
    alone, shared = world.replay(), world.replay(workers=2)
    assert shared.entries == alone.entries
    assert shared.nominations == alone.nominations
    assert [d.nomination for d in shared.differences] == [int(three[1].split(":")[1])]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_stream_falls_in_exactly_one_share(engine: sa.Engine, workers: int) -> None:
    streams = ["nomination:1", "nomination:12", "campaign:7", "nomination:-3", "nomination:x", ""]
    with engine.connect() as connection:
        for stream in streams:
            shares = [
                k
                for k in range(workers)
                if connection.execute(
                    sa.text(
                        "SELECT count(*) FROM (SELECT CAST(:s AS VARCHAR(64)) AS stream) AS one "
                        f"WHERE {share_where(connection, (workers, k))}"
                    ),
                    {"s": stream},
                ).scalar()
            ]
            assert len(shares) == 1, (stream, shares)


def test_an_objects_rows_fall_in_the_share_of_its_stream(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        for number in (1, 2, 12, 13):
            stream_share = [
                k
                for k in range(2)
                if connection.execute(
                    sa.text(
                        "SELECT count(*) FROM (SELECT CAST(:s AS VARCHAR(64)) AS stream) AS one "
                        f"WHERE {share_where(connection, (2, k))}"
                    ),
                    {"s": f"nomination:{number}"},
                ).scalar()
            ]
            object_share = [
                k
                for k in range(2)
                if connection.execute(
                    sa.text(
                        "SELECT count(*) FROM (SELECT CAST(:n AS INTEGER) AS id) AS one "
                        f"WHERE {share_where(connection, (2, k), 'id')}"
                    ),
                    {"n": number},
                ).scalar()
            ]
            assert stream_share == object_share == [number % 2]


def test_by_default_a_small_log_is_read_by_one_process_and_a_large_one_by_one_per_cpu(
    world: Service, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported_ward(world)
    monkeypatch.setattr(sharding.os, "sched_getaffinity", lambda _pid: {0, 1, 2}, raising=False)
    assert sharding.auto_workers(engine) == 1
    monkeypatch.setattr(sharding, "AUTO_FROM", 3)
    assert sharding.auto_workers(engine) == 3
    monkeypatch.setattr(sharding, "AUTO_MAX", 2)
    assert sharding.auto_workers(engine) == 2
    monkeypatch.setattr(sharding.os, "sched_getaffinity", lambda _pid: {0}, raising=False)
    assert sharding.auto_workers(engine) == 1
