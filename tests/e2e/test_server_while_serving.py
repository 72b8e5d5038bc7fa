"""While `thidua serve` answers: it runs as many requests at once as it keeps connections, so
that a busy server never opens connections beyond its pool; what startup built is out of the
garbage collector's sight and the youngest generation is collected less often (both undone when
it stops)."""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from workflow.db import make_engine, migrate
from workflow.server import SERVING_GC_THRESHOLD, _lifespan, create_app, serving_collector
from workflow.service import Service
from workflow.settings import Settings


def test_the_server_freezes_what_startup_built_while_it_answers_and_thaws_it_after(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    migrate(engine)
    service = Service(engine)
    settings = Settings(run_scheduler=False, run_dispatcher=False)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(create_app(service, settings, _lifespan(service, settings))) as client:
            assert client.get("/api/v1/openapi.json").status_code == 200
            assert gc.get_threshold() == SERVING_GC_THRESHOLD
            # The interpreter's modules, FastAPI's routes and schemas, SQLAlchemy's tables…
            assert gc.get_freeze_count() > 50_000
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
    finally:
        engine.dispose()


def test_leaving_by_an_error_restores_the_collector_too() -> None:
    before = gc.get_threshold()

    def answer_then_fail() -> None:
        with serving_collector():
            assert gc.get_freeze_count() > 0
            raise RuntimeError("the server stopped on an error")

    with pytest.raises(RuntimeError, match="stopped on an error"):
        answer_then_fail()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_busy_server_runs_as_many_requests_at_once_as_it_keeps_connections(
    tmp_path: Path,
) -> None:
    """12 requests at once against a pool of 3: each looks its bearer token up on a connection
    held for 50 ms; never more than 3 are out of the pool at once (the pool would lend 3 more
    on demand, and open and close them), and every request is answered."""
    settings = Settings(db_pool_size=3, run_scheduler=False, run_dispatcher=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'serve.sqlite3'}", settings.db_pool_size)
    migrate(engine)
    service = Service(engine)
    lock = threading.Lock()
    out = {"now": 0, "most": 0, "opened": 0}

    def checkout(*_args: Any) -> None:
        with lock:
            out["now"] += 1
            out["most"] = max(out["most"], out["now"])
        time.sleep(0.05)

    def checkin(*_args: Any) -> None:
        with lock:
            out["now"] -= 1

    def connect(*_args: Any) -> None:
        out["opened"] += 1

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    sa.event.listen(engine, "connect", connect)
    try:
        app = create_app(service, settings, _lifespan(service, settings))
        with TestClient(app) as client, ThreadPoolExecutor(12) as pool:
            headers = {"Authorization": "Bearer " + "x" * 43}
            answers = list(pool.map(lambda _: client.get("/api/v1/me", headers=headers), range(12)))
        assert [answer.status_code for answer in answers] == [401] * 12
        assert out["most"] == 3
        assert out["opened"] <= 3
    finally:
        engine.dispose()
