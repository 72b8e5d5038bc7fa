"""PostgreSQL connections kept in the pool (workflow.db.make_engine): one that sat idle longer
than the ping interval is pinged before use, so a connection the server dropped meanwhile is
replaced without the command noticing; one just given back is used without a ping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, new_database
from workflow.db import make_engine

pytestmark = pytest.mark.postgres


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _drop(pid: int) -> None:
    """The server ends that connection, as a restart or an idle timeout on the way would."""
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            ended = connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar()
        assert ended is True
    finally:
        admin.dispose()


@contextmanager
def _pool(tmp_path: Path, ping_after: float) -> Iterator[sa.Engine]:
    with new_database("postgresql", tmp_path) as url:
        engine = make_engine(url, ping_after=ping_after)
        try:
            yield engine
        finally:
            engine.dispose()


def test_a_pooled_connection_dropped_while_idle_is_replaced_unnoticed(tmp_path: Path) -> None:
    with _pool(tmp_path, ping_after=0.0) as engine:
        first = _backend(engine)
        _drop(first)
        second = _backend(engine)  # no error: the ping found it gone, the pool reconnected
        assert second != first
        assert _backend(engine) == second  # and the new one is kept in the pool


def test_a_connection_just_given_back_is_used_without_a_ping(tmp_path: Path) -> None:
    with _pool(tmp_path, ping_after=3600.0) as engine:
        first = _backend(engine)
        _drop(first)
        # Not pinged: the statement under way meets the dropped connection and fails ...
        with pytest.raises(sa.exc.OperationalError):
            _backend(engine)
        # ... and SQLAlchemy drops the pool, so the next command reconnects.
        assert _backend(engine) != first
