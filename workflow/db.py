"""Engines and schema: the SQLite default with its durability settings, PostgreSQL by URL.

SQLite runs in WAL mode with synchronous=FULL and foreign keys on; a write transaction starts with
BEGIN IMMEDIATE, so two writers queue on the lock instead of one failing on a stale snapshot.
The schema is created and upgraded by the Alembic migrations beside this module.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, Engine, create_engine, event, func
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import QueryableAttribute

__all__ = [
    "DEFAULT_URL",
    "PING_AFTER_IDLE",
    "READ_ONLY",
    "ensure_schema",
    "json_rows",
    "json_value",
    "make_engine",
    "migrate",
    "normalise_url",
]

DEFAULT_URL = "sqlite:///thidua.sqlite3"
#: Execution option for read-only work: on SQLite it begins a deferred transaction.
READ_ONLY = {"sqlite_begin": "DEFERRED"}
_MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept postgresql:// and postgres:// as the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: A pooled PostgreSQL connection idle for longer than this (seconds) is pinged before it is used.
PING_AFTER_IDLE = 5.0


def make_engine(
    url: str, pool_size: int | None = None, ping_after: float = PING_AFTER_IDLE, **kwargs: Any
) -> Engine:
    """An engine for `url`; `pool_size` connections kept open (as many again on demand),
    SQLAlchemy's default when None. An in-memory SQLite database keeps its own pool.

    A PostgreSQL connection that sat in the pool for more than `ping_after` seconds is pinged
    when it is taken out (one round trip); if the server dropped it (a restart, an idle timeout
    on the way) the pool opens a new one instead. One just given back is used as it is: pinging
    it too (`pool_pre_ping`) would add a round trip to every command. A server that goes away
    while connections are busy fails the commands under way (as it would anyway); SQLAlchemy
    then drops the whole pool, so the next ones reconnect."""
    url = normalise_url(url)
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if pool_size is not None and not (sqlite and parsed.database in (None, "", ":memory:")):
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    if not sqlite:
        engine = create_engine(url, **kwargs)
        _ping_when_idle(engine, ping_after)
        return engine
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event emits BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections idle over `seconds`."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and takes (or opens) another one.
            raise DisconnectionError(f"a pooled connection was dropped: {exc}") from exc


def json_rows(
    dialect: str, *columns: ColumnElement[Any] | QueryableAttribute[Any]
) -> ColumnElement[Any]:
    """The rows of `columns` as one JSON array of arrays, an aggregate for a scalar subquery
    (json_agg on PostgreSQL, json_group_array on SQLite; NULL or [] for no rows)."""
    if dialect == "postgresql":
        return func.json_agg(func.json_build_array(*columns))
    return func.json_group_array(func.json_array(*columns))


def json_value(value: Any) -> Any:
    """A `json_rows` value as Python: SQLite hands over its text, psycopg the parsed value."""
    return json.loads(value) if isinstance(value, str) else value


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (creating it on an empty database)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_schema(engine: Engine) -> bool:
    """Create or upgrade the schema when it is not at the newest revision; True if it ran."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
    if current == head:
        return False
    migrate(engine)
    return True
