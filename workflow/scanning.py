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

__all__ = [
    "BATCH",
    "Share",
    "audit_rows",
    "nomination_rows",
    "raw_text",
    "replay_rows",
    "share_where",
]

#: Rows per batch handed to a scan: small enough that a batch's row objects stay in the CPU's
#: caches while the scan works on them (20,000 rows of 17 columns read a third slower).
BATCH = 1000
#: Rows per round trip of PostgreSQL's server-side cursor.
PG_ITERSIZE = 20_000
#: One worker's share of the log: (workers, index). Share k of n holds the streams whose object
#: id (the number after "nomination:" / "campaign:") is k modulo n, and those objects' rows.
Share = tuple[int, int]


_PG_AT = """to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _at(connection: Connection) -> str:
    """The `at` column as text: SQLite stores UTC text already; PostgreSQL formats it."""
    return _PG_AT if connection.dialect.name == "postgresql" else "at"


def _select_columns(connection: Connection) -> str:
    return COLUMNS.replace(" at,", f" {_at(connection)},")


def _stream_number(connection: Connection) -> str:
    """SQL for a stream's object id; a stream without a number counts as 0 (share 0). No "?"
    or "%" in it: the PostgreSQL scan turns "?" into placeholders."""
    if connection.dialect.name == "postgresql":
        part = "split_part(stream, ':', 2)"
        return (
            f"CASE WHEN {part} ~ '^-{{0,1}}[0-9]{{1,18}}$' THEN CAST({part} AS BIGINT) ELSE 0 END"
        )
    return "CAST(substr(stream, instr(stream, ':') + 1) AS INTEGER)"


def share_where(connection: Connection, share: Share | None, column: str = "stream") -> str:
    """A WHERE condition keeping one share's rows ("" for the whole log). `column` is "stream"
    for audit rows, or an object id column (n.id, id) for nominations and campaigns."""
    if share is None:
        return ""
    workers, index = int(share[0]), int(share[1])
    number = _stream_number(connection) if column == "stream" else column
    if connection.dialect.name == "postgresql":  # mod(): a bare % is a psycopg placeholder
        return f"abs(mod({number}, {workers})) = {index}"
    return f"abs({number} % {workers}) = {index}"


def raw_text(connection: Connection) -> bool:
    """Whether `audit_rows(raw=True)` hands text over as the stored UTF-8 bytes (SQLite does)."""
    return connection.dialect.name == "sqlite"


def _batches(
    connection: Connection, sql: str, params: tuple[Any, ...], raw: bool = False
) -> Iterator[list[Row]]:
    dbapi: Any = connection.connection.dbapi_connection
    factory = getattr(dbapi, "text_factory", None)
    if raw and raw_text(connection):  # until the scan ends, this connection reads bytes
        dbapi.text_factory = bytes
    if connection.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
        cursor = dbapi.cursor(name="thidua_audit_scan")  # server-side: rows arrive in batches
        cursor.itersize = PG_ITERSIZE
    else:
        cursor = dbapi.cursor()
    try:
        if params:
            cursor.execute(sql, params)
        else:
            cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            yield batch
    finally:
        cursor.close()
        if raw and raw_text(connection):
            dbapi.text_factory = factory


def audit_rows(
    connection: Connection,
    *,
    stream: str | None = None,
    streams_like: str | None = None,
    share: Share | None = None,
    raw: bool = False,
) -> Iterator[list[Row]]:
    """Batches of audit rows (see workflow.encoding.COLUMNS), by id; optionally one stream.
    With `raw`, text comes as the stored UTF-8 bytes where `raw_text` says so (not decoded:
    a scan that only hashes it saves the decoding and encoding again)."""
    where: str = ""
    params: tuple[str, ...] = ()
    if stream is not None:
        where, params = " WHERE stream = ?", (stream,)
    elif streams_like is not None:
        where, params = " WHERE stream LIKE ?", (streams_like,)
    elif share is not None:
        where = f" WHERE {share_where(connection, share)}"
    sql = f"SELECT {_select_columns(connection)} FROM audit_log{where} ORDER BY id"
    yield from _batches(connection, sql, params, raw)


def nomination_rows(connection: Connection, share: Share | None = None) -> Iterator[list[Row]]:
    """Batches of (id, campaign code, state, version, last_hash) of every nomination."""
    where = f" WHERE {share_where(connection, share, 'n.id')}" if share is not None else ""
    sql = (
        "SELECT n.id, c.code, n.state, n.version, n.last_hash FROM nominations n "
        f"JOIN campaigns c ON c.id = n.campaign_id{where} ORDER BY n.id"
    )
    yield from _batches(connection, sql, ())


def replay_rows(connection: Connection, share: Share | None = None) -> Iterator[list[Row]]:
    """Batches of what a replay needs of each nomination entry, by id: (id, stream, seq, at,
    trigger, from_state, to_state, payload — for 'register' entries only)."""
    at = _at(connection)
    mine = f" AND {share_where(connection, share)}" if share is not None else ""
    sql = (
        f"SELECT id, stream, seq, {at}, trigger, from_state, to_state, "
        "CASE WHEN trigger = 'register' THEN payload END FROM audit_log "
        f"WHERE stream LIKE 'nomination:%'{mine} ORDER BY id"
    )
    yield from _batches(connection, sql, ())
