"""While `thidua serve` answers, what startup built is out of the garbage collector's sight and
the youngest generation is collected less often; both are undone when it stops."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
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
