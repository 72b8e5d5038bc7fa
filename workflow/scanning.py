"""Stream the audit log (and the nominations' stored states) with the bare driver cursor.

The ORM costs more per row than hashing it; auditors' scans read millions of rows, so they go
through the DB-API cursor of the session's connection in batches: `fetchmany` on SQLite, a named
(server-side) cursor on PostgreSQL, always ordered by id, which is the order entries were written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from workflow.encoding import COLUMNS, Row

__all__ = ["BATCH", "audit_rows", "nomination_rows", "replay_rows"]

BATCH = 20_000


_PG_AT = """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _at(connection: Connection) -> str:
    """The `at` column as text: SQLite stores UTC text already; PostgreSQL formats it."""
    return _PG_AT if connection.dialect.name == "postgresql" else "at"


def _select_columns(connection: Connection) -> str:
    return COLUMNS.replace(" at,", f" {_at(connection)},")


def _batches(connection: Connection, sql: str, params: tuple[Any, ...]) -> Iterator[list[Row]]:
    dbapi: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
        cursor = dbapi.cursor(name="thidua_audit_scan")  # server-side: rows arrive in batches
        cursor.itersize = BATCH
    else:
        cursor = dbapi.cursor()
    try:
        if params:
            cursor.execute(sql, params)
        else:
            cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            yield list(batch)
    finally:
        cursor.close()


def audit_rows(
    connection: Connection, *, stream: str | None = None, streams_like: str | None = None
) -> Iterator[list[Row]]:
    """Batches of audit rows (see workflow.encoding.COLUMNS), by id; optionally one stream."""
    where: str = ""
    params: tuple[str, ...] = ()
    if stream is not None:
        where, params = " WHERE stream = ?", (stream,)
    elif streams_like is not None:
        where, params = " WHERE stream LIKE ?", (streams_like,)
    sql = f"SELECT {_select_columns(connection)} FROM audit_log{where} ORDER BY id"
    yield from _batches(connection, sql, params)


def nomination_rows(connection: Connection) -> Iterator[list[Row]]:
    """Batches of (id, campaign code, state, version, last_hash) of every nomination."""
    sql = (
        "SELECT n.id, c.code, n.state, n.version, n.last_hash FROM nominations n "
        "JOIN campaigns c ON c.id = n.campaign_id ORDER BY n.id"
    )
    yield from _batches(connection, sql, ())


def replay_rows(connection: Connection) -> Iterator[list[Row]]:
    """Batches of what a replay needs of each nomination entry, by id: (id, stream, seq, at,
    trigger, from_state, to_state, payload — for 'register' entries only)."""
    at = _at(connection)
    sql = (
        f"SELECT id, stream, seq, {at}, trigger, from_state, to_state, "
        "CASE WHEN trigger = 'register' THEN payload END FROM audit_log "
        "WHERE stream LIKE 'nomination:%' ORDER BY id"
    )
    yield from _batches(connection, sql, ())
