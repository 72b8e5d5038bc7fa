"""`thidua scheduler` as real processes: a restart applies a deadline exactly once, and on one
PostgreSQL database two schedulers share the work through the lease (one runs, the other takes
over when the first is killed). Every wait is bounded; every process is killed at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import EXTRA
from tests.integration.helpers import HCM, Q12, register_ward
from tests.polling import scalar, wait_for
from workflow.clock import FixedClock
from workflow.db import make_engine, migrate
from workflow.demo import sample_data
from workflow.service import Service
from workflow.timeutil import VIETNAM, format_local

pytestmark = pytest.mark.slow

LEASE = "2"
RENEW = "0.3"


def in_seconds(seconds: float) -> tuple[datetime, str]:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    return moment, format_local(moment, seconds=True)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []

    def start(url: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"scheduler-{len(processes)}.log").open("wb")
        logs.append(log)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workflow.cli",
                "scheduler",
                "--db",
                url,
                "--lease-seconds",
                LEASE,
                "--renew-seconds",
                RENEW,
                "--catch-up-seconds",
                "3600",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "THIDUA_LOG_LEVEL": "info"},
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    for log in logs:
        log.close()


def setup_world(url: str) -> tuple[Service, sa.Engine, list[int], list[int]]:
    """The sample world with five Q12 and three HCM nominations registered on 20/04/2022."""
    engine = make_engine(url)
    migrate(engine)
    clock = FixedClock(datetime(2022, 4, 20, 9, tzinfo=VIETNAM))
    service = Service(engine, clock)
    service.load(sample_data(), actor="quantri")
    service.load(EXTRA, actor="quantri.hcm")
    ids = [register_ward(service, name=f"Tổ {n}").id for n in range(5)]
    hcm = [
        register_ward(service, campaign=HCM, officer="khoa.linhtrung", unit="26800").id
        for _ in range(3)
    ]
    clock.set(datetime.now(UTC))
    return service, engine, ids, hcm


def holder_pid(engine: sa.Engine) -> int | None:
    if not sa.inspect(engine).has_table("scheduler_lease"):
        return None
    holder = scalar(engine, "SELECT holder FROM scheduler_lease WHERE expires_at IS NOT NULL")
    return int(holder.split(":")[1]) if holder else None


def expiries(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT stream, count(*) FROM audit_log WHERE trigger = 'expire' GROUP BY stream"
            )
        )
        return dict(rows.all())


def test_a_scheduler_killed_before_a_deadline_and_restarted_after_applies_it_once(
    tmp_path: Path, spawn: Callable[[str], subprocess.Popen[bytes]]
) -> None:
    url = f"sqlite:///{tmp_path / 'thidua.sqlite3'}"
    service, engine, ids, _hcm = setup_world(url)
    service.set_deadlines("quantri.hcm", HCM, report=in_seconds(3600)[1])
    deadline, text = in_seconds(6)
    service.set_deadlines("quantri", Q12, report=text)
    first = spawn(url)
    wait_for(lambda: holder_pid(engine) == first.pid, 20, "the first scheduler's lease")
    first.kill()
    first.wait(timeout=10)
    assert datetime.now(UTC) < deadline
    time.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 1.0)
    assert [service.show(n).state for n in ids] == ["registered"] * 5
    second = spawn(url)
    wait_for(
        lambda: all(service.show(n).state == "expired" for n in ids),
        30,
        "the restarted scheduler to apply the missed deadline",
    )
    assert holder_pid(engine) == second.pid
    assert scalar(engine, "SELECT fencing FROM scheduler_lease") == 2
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0
    assert expiries(engine) == {f"nomination:{n}": 1 for n in ids}
    assert service.verify().ok
    engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_schedulers_on_postgresql_apply_a_deadline_once_and_the_second_takes_over(
    db_url: str, spawn: Callable[[str], subprocess.Popen[bytes]]
) -> None:
    service, engine, ids, hcm = setup_world(db_url)
    _deadline, text = in_seconds(6)
    service.set_deadlines("quantri", Q12, report=text)
    service.set_deadlines("quantri.hcm", HCM, report=in_seconds(3600)[1])
    first = spawn(db_url)
    wait_for(lambda: holder_pid(engine) == first.pid, 20, "the first scheduler's lease")
    second = spawn(db_url)
    wait_for(lambda: all(service.show(n).state == "expired" for n in ids), 30, "the Q12 deadline")
    assert holder_pid(engine) == first.pid
    assert expiries(engine) == {f"nomination:{n}": 1 for n in ids}
    first.kill()
    first.wait(timeout=10)
    wait_for(lambda: holder_pid(engine) == second.pid, 20, "the second scheduler to take over")
    assert scalar(engine, "SELECT fencing FROM scheduler_lease") == 2
    service.clock.set(datetime.now(UTC))  # type: ignore[attr-defined]
    service.set_deadlines("quantri.hcm", HCM, report=in_seconds(3)[1])
    wait_for(
        lambda: all(service.show(n).state == "expired" for n in hcm),
        30,
        "the second scheduler to apply the moved HCM deadline",
    )
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0
    assert expiries(engine) == {f"nomination:{n}": 1 for n in [*ids, *hcm]}
    assert service.verify().ok
    engine.dispose()
