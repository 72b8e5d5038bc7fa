"""The append-only, hash-chained audit log.

Each change of a nomination or a campaign appends one entry to that object's *stream*
("nomination:42", "campaign:3") in the transaction of the change. An entry's hash is SHA-256 over
a canonical, versioned encoding of its fields and the previous entry's hash:

    encoding 1: JSON of {"v", "stream", "seq", "at", "actor": {"id", "name", "role", "unit"},
                "trigger", "from", "to", "reason", "payload", "definition_version", "prev"}
                with sorted keys, no spaces, UTF-8, every string NFC, `at` as
                YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC).

A new encoding gets a new number; entries keep the number they were written with, so the
entries of an older version still verify.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy.orm import Session, class_mapper

from workflow.tables import AuditEntry
from workflow.timeutil import as_utc

__all__ = [
    "ENCODING",
    "GENESIS",
    "SYSTEM",
    "Actor",
    "Break",
    "VerifyReport",
    "canonical_json",
    "entry_fields",
    "hash_fields",
    "new_entry",
    "record",
    "verify",
]

ENCODING = 1
GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who acted, with the role and unit they acted in at that moment."""

    id: int | None
    name: str
    role: str
    unit: str | None


SYSTEM = Actor(None, "thidua", "system", None)


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(key): _nfc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nfc(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, NFC strings, non-ASCII kept as itself."""
    return json.dumps(_nfc(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _timestamp(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_fields(fields: dict[str, Any], encoding: int = ENCODING) -> str:
    if encoding != 1:
        raise ValueError(f"audit encoding {encoding} is not known to this version of thidua")
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def entry_fields(
    *,
    stream: str,
    seq: int,
    at: datetime,
    actor: Actor,
    trigger: str,
    from_state: str | None,
    to_state: str | None,
    reason: str | None,
    payload: dict[str, Any],
    definition_version: int,
    prev_hash: str,
) -> dict[str, Any]:
    """The hashed fields of an entry, in encoding 1."""
    return {
        "v": 1,
        "stream": stream,
        "seq": seq,
        "at": _timestamp(at),
        "actor": {
            "id": actor.id,
            "name": actor.name,
            "role": actor.role,
            "unit": actor.unit,
        },
        "trigger": trigger,
        "from": from_state,
        "to": to_state,
        "reason": reason,
        "payload": payload,
        "definition_version": definition_version,
        "prev": prev_hash,
    }


def new_entry(
    *,
    stream: str,
    seq: int,
    prev_hash: str,
    at: datetime,
    actor: Actor,
    trigger: str,
    from_state: str | None,
    to_state: str | None,
    reason: str | None,
    payload: dict[str, Any],
    definition_version: int,
) -> AuditEntry:
    """A new entry, hashed; the caller adds it to the command's session."""
    payload = _nfc(payload)
    fields = entry_fields(
        stream=stream,
        seq=seq,
        at=at,
        actor=actor,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        payload=payload,
        definition_version=definition_version,
        prev_hash=prev_hash,
    )
    return AuditEntry(
        stream=stream,
        seq=seq,
        at=at,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role,
        actor_unit=actor.unit,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        payload=canonical_json(payload),
        definition_version=definition_version,
        encoding=ENCODING,
        prev_hash=prev_hash,
        hash=hash_fields(fields),
    )


@dataclass(frozen=True)
class Break:
    """The first bad entry of a stream, or a stored object that disagrees with its stream."""

    stream: str
    seq: int | None
    entry_id: int | None
    why: str

    def __str__(self) -> str:
        where = f"entry {self.seq} (id {self.entry_id})" if self.seq is not None else "head"
        return f"{self.stream} {where}: {self.why}"


@dataclass
class VerifyReport:
    entries: int = 0
    streams: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def verify(session: Session, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Recompute every stream's chain; name each broken stream's first bad entry and why.

    Also checks that each nomination's and campaign's stored version and head hash match its
    stream, which catches a deleted tail that a chain alone cannot show, and that each
    nomination's stored state is the one its entries replay to (see workflow.verifying).
    """
    from workflow.verifying import verify_log  # imports this module

    return verify_log(session.connection(), progress)


class Audited(Protocol):
    """A stored object with its own stream: its version counts its entries."""

    id: int
    version: int
    last_hash: str


#: Built once, so each command reuses its compiled form.
_INSERT_ENTRY = insert(AuditEntry)
_ENTRIES = class_mapper(AuditEntry).class_manager


def _written(values: dict[str, Any]) -> AuditEntry:
    """The written entry as an AuditEntry outside any session, its values set without the
    attribute events of __init__ (they cost as much as the INSERT itself)."""
    entry = _ENTRIES.new_instance()
    entry.__dict__.update(values)
    return entry


def _text(value: Any) -> Any:
    """Text in NFC (checking is cheaper than normalising, and nearly all text is NFC already)."""
    if (
        isinstance(value, str)
        and not value.isascii()
        and not unicodedata.is_normalized("NFC", value)
    ):
        return unicodedata.normalize("NFC", value)
    return value


def _canonical(value: Any) -> str:
    """canonical_json for a value whose texts are NFC already."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _entry_hash(fields: dict[str, Any]) -> str:
    """hash_fields(fields) for fields whose payload is NFC already: only the texts beside it and
    in the actor are normalised, instead of the whole tree again."""
    texts = {key: _text(value) for key, value in fields.items()}
    texts["actor"] = {key: _text(value) for key, value in fields["actor"].items()}
    return hashlib.sha256(_canonical(texts).encode("utf-8")).hexdigest()


def record(
    session: Session,
    target: Audited,
    stream: str,
    *,
    at: datetime,
    actor: Actor,
    trigger: str,
    from_state: str | None,
    to_state: str | None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
    definition_version: int,
) -> AuditEntry:
    """Append the next entry of `target`'s stream and move its version and head hash on.

    The entry is written at once, with one INSERT on the command's connection; the target's new
    version and head hash are written with the target (its command's save, or the session's
    flush), where the version column makes a concurrent change of the same object fail. The
    unique (stream, seq) fails a second writer of entry N at its INSERT, so two commands never
    both append entry N. Returns the written entry (not attached to the session).
    """
    seq = (target.version or 0) + 1
    prev_hash = target.last_hash or GENESIS
    payload = _nfc(payload or {})
    fields = entry_fields(
        stream=stream,
        seq=seq,
        at=at,
        actor=actor,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        payload=payload,
        definition_version=definition_version,
        prev_hash=prev_hash,
    )
    digest = _entry_hash(fields)
    values: dict[str, Any] = {
        "stream": stream,
        "seq": seq,
        "at": at,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "actor_unit": actor.unit,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "payload": _canonical(payload),
        "definition_version": definition_version,
        "encoding": ENCODING,
        "prev_hash": prev_hash,
        "hash": digest,
    }
    session.connection().execute(_INSERT_ENTRY, values)
    target.version = seq
    target.last_hash = digest
    return _written(values)
