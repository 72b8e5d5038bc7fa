"""Verify the audit log in one streaming pass: chains, sequences, replayed states, stored heads.

Pass 1 reads every entry by id and keeps, per stream, the next expected sequence, the previous
hash and the replayed dossier; the first entry that does not fit marks its stream broken. Each
broken stream is then read again on its own, ordered by sequence, to say exactly what happened to
its first bad entry:

    edited     its content does not match its hash
    inserted   an entry links to an entry that another already follows (a duplicate chain link),
               or the stream has more entries than its stored version counts
    missing    a gap in the sequence, or a previous-hash that links to no entry of the stream,
               or fewer entries than its stored version counts
    reordered  sequence and id disagree, or a previous-hash links to a later entry

Last, each nomination's stored state, version and head hash (and each campaign's and delegation's
version and head hash) must be what its entries say. `Watch` lets a checkpoint ride along the same
pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from workflow.audit import GENESIS, Actor, Break, VerifyReport, entry_fields, hash_fields
from workflow.encoding import Row, ScanHasher, at_text, row_hash
from workflow.merkle import MerkleBuilder
from workflow.replaying import Progress, Replayer, ReplayTable
from workflow.scanning import Share, audit_rows, nomination_rows, raw_text, share_where

__all__ = ["Watch", "diagnose", "verify_log"]

PROGRESS_EVERY = 100_000
#: Besides nominations, the objects with their own stream, version and head hash: (table, kind).
HEADED = (("campaigns", "campaign"), ("delegations", "delegation"))


@dataclass
class Watch:
    """What a checkpoint asks of the pass: the root of the first `count` entries, and the hash
    each stream now has at the sequence the checkpoint saw as its head."""

    count: int
    heads: dict[str, int]
    merkle: MerkleBuilder = field(default_factory=MerkleBuilder)
    seen: dict[str, str] = field(default_factory=dict)


def _hash(row: Row, at: str) -> str:
    if row[14] == 1:
        return row_hash(row, at)
    fields = entry_fields(
        stream=row[1],
        seq=row[2],
        at=_parse_at(at),
        actor=Actor(row[4], row[5], row[6], row[7]),
        trigger=row[8],
        from_state=row[9],
        to_state=row[10],
        reason=row[11],
        payload=json.loads(row[12]),
        definition_version=row[13],
        prev_hash=row[15],
    )
    return hash_fields(fields, row[14])  # raises ValueError for an encoding this version lacks


def _parse_at(at: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def _recomputed(row: Row) -> tuple[str | None, str | None]:
    """The row's recomputed hash, or None and why it cannot be computed."""
    try:
        return _hash(row, at_text(row[3])), None
    except (ValueError, TypeError) as exc:
        return None, f"cannot be decoded: {exc}"


def diagnose(rows: list[Row]) -> tuple[int, int, str] | None:
    """The first bad entry of one stream's rows: (seq, id, why), or None if the chain holds."""
    rows = sorted(rows, key=lambda row: (row[2], row[0]))
    seq_of = {row[16]: row[2] for row in rows}
    expected, prev, last_id = 1, GENESIS, 0
    followed: dict[str, int] = {}
    for row in rows:
        entry_id, seq, prev_hash = row[0], row[2], row[15]
        if seq < expected:
            return seq, entry_id, f"a second entry {seq} (inserted)"
        if seq > expected:
            gap = f"{expected}" if seq == expected + 1 else f"{expected}–{seq - 1}"
            return seq, entry_id, f"sequence jumps to {seq}: entry {gap} is missing (deleted)"
        if prev_hash != prev:
            linked = seq_of.get(prev_hash)
            if linked is not None and linked >= seq:
                why = f"its previous-hash links to entry {linked}, which comes after it (reordered)"
            elif linked is not None and prev_hash in followed:
                why = (
                    f"its previous-hash links to entry {linked}, which entry "
                    f"{followed[prev_hash]} already follows: a duplicate chain link (an entry was "
                    "inserted)"
                )
            elif prev_hash == GENESIS and row[8] != "register":
                why = "its previous-hash is the genesis hash in mid-stream (an entry was inserted)"
            else:
                why = (
                    "its previous-hash links to no entry of the stream: the entry before it was "
                    "deleted or replaced (missing)"
                )
            return seq, entry_id, why
        if entry_id < last_id:
            why = f"it has id {entry_id}, lower than entry {seq - 1}'s id {last_id} (reordered)"
            return seq, entry_id, why
        recomputed, undecodable = _recomputed(row)
        if undecodable is not None:
            return seq, entry_id, undecodable
        if recomputed != row[16]:
            return seq, entry_id, "its content does not match its hash (edited)"
        followed[prev_hash] = seq
        expected, prev, last_id = seq + 1, row[16], entry_id
    return None


def _replayed(stream: str, rows: list[Row]) -> list[Any]:
    """The pass's state of a stream whose chain holds, from its rows."""
    replayer = Replayer() if stream.startswith("nomination:") else None
    state: list[Any] = [1, GENESIS, 0, replayer, False]
    for row in sorted(rows, key=lambda row: (row[2], row[0])):
        state[0], state[1], state[2] = row[2] + 1, row[16], row[0]
        if replayer is not None:
            replayer.apply(row[2], row[8], row[9], row[10], row[12])
    return state


def _head_break(
    stream: str, seq: int, head: str, version: int, last_hash: str, what: str
) -> Break | None:
    if seq == version and head == last_hash:
        return None
    if seq > version:
        return Break(
            stream,
            version + 1,
            None,
            f"the stream has {seq} entries but the {what} is stored at version {version}: "
            f"entry {version + 1} and later were inserted (or the {what} row was edited)",
        )
    if seq < version:
        return Break(
            stream,
            seq + 1,
            None,
            f"the {what} is stored at version {version} but its stream ends at entry {seq}: "
            f"entry {seq + 1} and later are missing (deleted)",
        )
    return Break(
        stream,
        seq,
        None,
        f"the {what}'s stored head hash is not the hash of its entry {seq} "
        f"(the entry was replaced or the {what} row edited)",
    )


def verify_log(
    connection: Connection,
    progress: Callable[[int], None] | None = None,
    watch: Watch | None = None,
    share: Share | None = None,
) -> VerifyReport:
    """Verify the whole log, or one share of its streams (see workflow.scanning.Share)."""
    if watch is not None and share is not None:
        raise ValueError("a checkpoint's watch needs the whole log in one pass")
    report = VerifyReport()
    raw = raw_text(connection)  # SQLite's rows come as bytes (see ScanHasher)
    genesis, nomination = (GENESIS.encode(), b"nomination:") if raw else (GENESIS, "nomination:")
    # per stream: [next seq, previous hash, last id, replay or None, broken], where a
    # nomination's replay is a state id of `table` while it holds (workflow.replaying.Progress)
    streams: dict[Any, list[Any]] = {}
    broken: list[Any] = []
    next_progress = PROGRESS_EVERY
    get = streams.get
    table = ReplayTable()
    known = table.next.get
    digests = ScanHasher(raw).digests  # a row it doubts is judged again by the reference
    for batch in audit_rows(connection, share=share, raw=True):
        for row, digest in zip(batch, digests(batch), strict=True):
            stream, seq = row[1], row[2]
            state = get(stream)
            if state is None:
                replay = 0 if stream.startswith(nomination) else None
                state = streams[stream] = [1, genesis, 0, replay, False]
            if watch is not None:
                if watch.merkle.size < watch.count:
                    watch.merkle.add_entry(_decoded(row[16]))
                if watch.heads.get(_decoded(stream)) == seq:
                    watch.seen[_decoded(stream)] = _decoded(row[16])
            if state[4]:
                continue
            if (
                seq != state[0]
                or row[15] != state[1]
                or (digest or _recomputed(_text(row) if raw else row)[0]) != row[16]
            ):
                state[4] = True
                broken.append(stream)
                continue
            state[0], state[1], state[2] = seq + 1, row[16], row[0]
            replay = state[3]
            if type(replay) is int:
                after: Progress | None = known((replay, row[8], row[9], row[10]))
                if after is None:
                    trigger, frm, to, payload = (
                        (_decoded(value) for value in (row[8], row[9], row[10], row[12]))
                        if raw
                        else (row[8], row[9], row[10], row[12])
                    )
                    after = table.advance(
                        replay,
                        seq,
                        trigger,
                        frm,
                        to,
                        payload,
                        key=(row[8], row[9], row[10]),
                        canonical=True,  # its hash holds: thidua wrote it, in canonical JSON
                    )
                state[3] = after
        report.entries += len(batch)
        if progress is not None and report.entries >= next_progress:
            progress(report.entries)
            next_progress += PROGRESS_EVERY
    if raw:
        streams = {key.decode(): [s[0], s[1].decode(), *s[2:]] for key, s in streams.items()}
        broken = [stream.decode() for stream in broken]
    report.streams = len(streams)
    for stream in broken:
        rows = [row for batch in audit_rows(connection, stream=stream) for row in batch]
        found = diagnose(rows)
        if found is None:  # the fast encoder's doubt, cleared by the reference: replay it whole
            streams[stream] = _replayed(stream, rows)
            continue
        seq, entry_id, why = found
        report.breaks.append(Break(stream, seq, entry_id, why))
    _check_stored(connection, streams, report, share, table)
    return report


def _decoded(value: Any) -> Any:
    return value.decode() if type(value) is bytes else value


def _text(row: Row) -> Row:
    """A row read as bytes, with its text decoded."""
    return tuple(_decoded(value) for value in row)


def _check_stored(
    connection: Connection,
    streams: dict[str, list[Any]],
    report: VerifyReport,
    share: Share | None = None,
    table: ReplayTable | None = None,
) -> None:
    """Each object's stored state, version and head hash against its stream; a stream left
    over in `streams` (each checked one is taken out) has no object."""
    table = table or ReplayTable()
    state_of = table.state
    take = streams.pop
    for batch in nomination_rows(connection, share):
        for nomination, _code, stored, version, last_hash in batch:
            key = f"nomination:{nomination}"
            state = take(key, None)
            if (  # the usual case: all in order
                state is not None
                and type(state[3]) is int
                and state[0] - 1 == version
                and state[1] == last_hash
                and state_of(state[3]) == stored
            ):
                continue
            state = state or [1, GENESIS, 0, Replayer(), False]
            if state[4]:
                continue
            found = _head_break(key, state[0] - 1, state[1], version, last_hash, "nomination")
            replayer = table.replayer(state[3])
            if found is None and replayer.problem is not None:
                found = Break(
                    key,
                    replayer.problem_seq,
                    None,
                    f"does not follow the state model: {replayer.problem}",
                )
            if found is None and replayer.state != stored:
                found = Break(
                    key,
                    None,
                    None,
                    f"stored as '{stored}' but its entries replay to '{replayer.state}' "
                    "(the nomination row was edited)",
                )
            if found is not None:
                report.breaks.append(found)
    mine = f" WHERE {share_where(connection, share, 'id')}" if share is not None else ""
    for name, what in HEADED:
        for number, version, last_hash in connection.exec_driver_sql(
            f"SELECT id, version, last_hash FROM {name}{mine} ORDER BY id"
        ):
            key = f"{what}:{number}"
            state = take(key, None) or [1, GENESIS, 0, None, False]
            if not state[4]:
                found = _head_break(key, state[0] - 1, state[1], version, last_hash, what)
                if found is not None:
                    report.breaks.append(found)
    for key, state in streams.items():
        if not state[4]:
            report.breaks.append(
                Break(key, 1, None, "the stream has entries but its object is not stored (deleted)")
            )
