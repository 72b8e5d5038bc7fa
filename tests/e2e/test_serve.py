"""`thidua serve` as real processes: it answers, names each request in its answer and its log,
stops cleanly on SIGTERM, and on one PostgreSQL database two servers share the scheduler through
the lease (one holds it, the other takes over when the first is killed) and the outbox (each
message sent once) while both answer the API. Every wait is bounded; every process is killed at
the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.e2e.cli import as_json, thidua
from tests.integration.helpers import Q12, register_ward
from tests.polling import scalar, wait_for
from workflow.clock import FixedClock
from workflow.db import make_engine, migrate
from workflow.demo import sample_data
from workflow.schedule_tables import SchedulerLease
from workflow.service import Service
from workflow.timeutil import VIETNAM, as_utc, format_local

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: Short lease settings, so that a takeover happens within seconds.
LEASE = {
    "THIDUA_LEASE_SECONDS": "2",
    "THIDUA_LEASE_RENEW_SECONDS": "0.3",
    "THIDUA_CATCH_UP_SECONDS": "3600",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (the rest of stderr is left aside)."""
        found = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def answers(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"thidua serve exited with {self.process.returncode}:\n{self.text()}")
        try:
            return httpx.get(f"{self.base}/api/v1/openapi.json", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")[-3000:]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []
    files: list[Any] = []

    def start(url: str, *args: str, env: dict[str, str] | None = None) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{len(servers)}.log"
        out = log.open("wb")
        files.append(out)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
        environment.update(
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
            PYTHONIOENCODING="utf-8",
            THIDUA_DATABASE_URL=url,
            THIDUA_LOG_LEVEL="info",
            **(env or {}),
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "workflow.cli", "serve", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=tmp_path,
        )
        server = Server(process, port, log)
        servers.append(server)
        wait_for(server.answers, 60, f"thidua serve on port {port} to answer")
        return server

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(timeout=30)
    for out in files:
        out.close()


def holder_pid(engine: sa.Engine) -> int | None:
    """The process holding the scheduler lease now (None when free or expired)."""
    with Session(engine) as session:
        row = session.execute(select(SchedulerLease.holder, SchedulerLease.expires_at)).first()
    if row is None or as_utc(row.expires_at) <= datetime.now(UTC):
        return None
    return int(row.holder.split(":")[1])


def world(url: str, nominations: int = 0) -> tuple[Service, sa.Engine, list[int]]:
    """The sample world, with `nominations` registered on 20/04/2022; the clock then at now."""
    engine = make_engine(url)
    migrate(engine)
    clock = FixedClock(datetime(2022, 4, 20, 9, tzinfo=VIETNAM))
    service = Service(engine, clock)
    service.load(sample_data(), actor="quantri")
    ids = [register_ward(service, name=f"Tổ {n}").id for n in range(nominations)]
    clock.set(datetime.now(UTC))
    return service, engine, ids


def test_serve_answers_names_each_request_and_stops_cleanly_on_sigterm(
    tmp_path: Path, serve: Callable[..., Server]
) -> None:
    url = f"sqlite:///{tmp_path / 'thidua.sqlite3'}"
    service, engine, _ = world(url)
    token = service.create_token("chutich.thanhxuan")["token"]
    server = serve(url, env=LEASE)

    document = httpx.get(f"{server.base}/api/v1/openapi.json", timeout=10).json()
    assert "/api/v1/nominations/{nomination_id}/approve" in document["paths"]
    named = httpx.get(
        f"{server.base}/api/v1/me",
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": "kiem-tra.42"},
        timeout=10,
    )
    assert named.status_code == 200
    assert named.json()["username"] == "chutich.thanhxuan"
    assert named.headers["x-request-id"] == "kiem-tra.42"
    unnamed = httpx.get(f"{server.base}/api/v1/me", timeout=10)
    assert unnamed.status_code == 401
    given = unnamed.headers["x-request-id"]
    assert given and given != "kiem-tra.42"
    assert unnamed.json()["request_id"] == given

    def logged(request_id: str) -> dict[str, Any] | None:
        return next(
            (
                line
                for line in server.lines()
                if line.get("event") == "request.done" and line.get("request_id") == request_id
            ),
            None,
        )

    line = wait_for(lambda: logged("kiem-tra.42"), 10, "the request's log line")
    assert line["status"] == 200
    assert line["path"] == "/api/v1/me"
    assert line["actor"] == "chutich.thanhxuan"
    assert wait_for(lambda: logged(given), 10, "the refused request's log line")["status"] == 401

    wait_for(lambda: holder_pid(engine) == server.process.pid, 20, "the server's lease")
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0, server.text()
    assert any(line.get("event") == "server.stopped" for line in server.lines())
    assert holder_pid(engine) is None  # released, not left to expire
    assert str(server.process.pid) in scalar(engine, "SELECT holder FROM scheduler_lease")
    engine.dispose()


def test_serve_with_two_workers_answers_from_both_and_stops_cleanly(
    tmp_path: Path, serve: Callable[..., Server]
) -> None:
    url = f"sqlite:///{tmp_path / 'thidua.sqlite3'}"
    service, engine, _ = world(url)
    token = service.create_token("chutich.thanhxuan")["token"]
    server = serve(url, "--workers", "2", env=LEASE)

    def started() -> int:
        return sum(line.get("event") == "server.started" for line in server.lines())

    wait_for(lambda: started() == 2, 30, "both worker processes to start")
    # The supervisor's children: the two workers (and multiprocessing's resource tracker).
    children = {
        int(pid)
        for pid in Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        .read_text()
        .split()
    }
    for _ in range(6):
        answer = httpx.get(
            f"{server.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert answer.status_code == 200
    # One of the workers, not the supervising process, holds the scheduler's lease.
    holder = wait_for(lambda: holder_pid(engine), 20, "a worker to take the lease")
    assert holder in children

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0, server.text()
    assert sum(line.get("event") == "server.stopped" for line in server.lines()) == 2
    assert holder_pid(engine) is None
    engine.dispose()


def expiries(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT stream, count(*) FROM audit_log WHERE trigger = 'expire' GROUP BY stream"
            )
        )
        return dict(rows.all())


def delivered(engine: sa.Engine, count: int) -> list[str] | None:
    """The keys of the log channel's messages once `count` of them are delivered."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT key, attempts, delivered_at FROM outbox WHERE channel = 'log'")
        ).all()
    done = [row for row in rows if row.delivered_at is not None]
    if len(done) < count:
        return None
    assert len(rows) == count
    assert [row.attempts for row in rows] == [1] * count
    return [row.key for row in rows]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_servers_on_postgresql_share_the_scheduler_and_both_answer(
    db_url: str, serve: Callable[..., Server]
) -> None:
    service, engine, ids = world(db_url, nominations=4)
    service.set_channel("hung.thanhxuan", "log")
    service.set_channel("hung.thanhxuan", "email", enabled=False)
    token = service.create_token("chutich.thanhxuan")["token"]
    first = serve(db_url, env=LEASE)
    second = serve(db_url, env=LEASE)
    pids = {first.process.pid, second.process.pid}
    holder = wait_for(lambda: holder_pid(engine), 20, "one server to hold the lease")
    assert holder in pids
    assert scalar(engine, "SELECT count(*) FROM scheduler_lease") == 1
    for server in (first, second):
        inbox = httpx.get(
            f"{server.base}/api/v1/inbox",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert inbox.status_code == 200, inbox.text

    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    service.set_deadlines("quantri", Q12, report=format_local(due, seconds=True))
    wait_for(
        lambda: all(service.show(n).state == "expired" for n in ids),
        30,
        "the report deadline to be applied",
    )
    assert expiries(engine) == {f"nomination:{n}": 1 for n in ids}
    assert holder_pid(engine) == holder
    # Both dispatchers poll the one outbox: each message is delivered by one of them, once.
    keys = wait_for(lambda: delivered(engine, len(ids)), 30, "the expiry messages to be sent")
    sent = [
        line["key"]
        for server in (first, second)
        for line in server.lines()
        if line.get("event") == "notification"
    ]
    assert sorted(sent) == sorted(keys)

    holding, waiting = (first, second) if holder == first.process.pid else (second, first)
    holding.process.kill()
    holding.process.wait(timeout=10)
    wait_for(lambda: holder_pid(engine) == waiting.process.pid, 20, "the other server to take over")
    assert scalar(engine, "SELECT fencing FROM scheduler_lease") == 2
    assert httpx.get(f"{waiting.base}/api/v1/openapi.json", timeout=10).status_code == 200
    waiting.process.send_signal(signal.SIGTERM)
    assert waiting.process.wait(timeout=30) == 0, waiting.text()
    assert expiries(engine) == {f"nomination:{n}": 1 for n in ids}
    assert service.verify().ok
    engine.dispose()


def test_serve_demo_loads_the_sample_whose_approver_sees_the_ward_dossier(
    tmp_path: Path, serve: Callable[..., Server]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    server = serve(url, "--demo", env={"THIDUA_SCHEDULER": "0", "THIDUA_DISPATCHER": "0"})
    created = thidua(url, "token", "create", "chutich.thanhxuan", "--json", url_in_env=True)
    assert created.returncode == 0, created.stderr
    token = as_json(created)["token"]
    inbox = httpx.get(
        f"{server.base}/api/v1/inbox", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert inbox.status_code == 200, inbox.text
    titles = [item["title"] for item in inbox.json()["items"]]
    assert titles == ["Hẹn giờ trả kết quả qua tin nhắn cho người dân"]
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0, server.text()
