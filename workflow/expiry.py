"""The report deadline's sweep, set-based: every `registered` or `implemented` nomination of a
campaign becomes `expired`, each with its own hash-chained audit entry and an outbox message.

A batch is one transaction: select up to `batch` due rows (on PostgreSQL `FOR UPDATE SKIP LOCKED`,
so two sweepers take different rows); compute each entry's hash (encoding 1, from a template
held to workflow.audit's `entry_fields`/`hash_fields` on every batch); then one executemany
UPDATE guarded by each row's version, one bulk INSERT of audit entries and one of outbox
messages. If another writer changed a row meanwhile (fewer rows updated than selected, or an
audit sequence already taken), the batch is rolled back and selected again, so no nomination
ever gets two entries for one expiry. The entries are exactly those `nominations.change()` with
`audit.record()` would write, so `audit verify` and replay accept them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.exc import IntegrityError

from states import State, Trigger
from workflow import audit
from workflow.lease import check_fencing
from workflow.tables import AuditEntry, Nomination, OutboxMessage

__all__ = ["EXPIRABLE", "DueCampaign", "expire_campaign"]

log = structlog.get_logger("thidua.deadlines")

#: The states the state model lets `expire` leave (a unit test holds this to the machine).
EXPIRABLE: tuple[str, ...] = (str(State.REGISTERED), str(State.IMPLEMENTED))
_AUDIT = cast(Table, AuditEntry.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_MAX_RETRIES = 20


@dataclass(frozen=True)
class DueCampaign:
    """What the sweep needs of a campaign whose report deadline has passed."""

    id: int
    code: str
    name: str
    report_deadline: datetime


class _Raced(Exception):
    """Another writer changed a row of the batch; roll it back and select again."""


def _select(campaign_id: int, batch: int) -> Any:
    return (
        select(
            Nomination.id,
            Nomination.state,
            Nomination.version,
            Nomination.last_hash,
            Nomination.definition_version,
            Nomination.title,
            Nomination.nominee_name,
            Nomination.proposer_id,
        )
        .where(Nomination.campaign_id == campaign_id, Nomination.state.in_(EXPIRABLE))
        .order_by(Nomination.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )


class _Encoder:
    """Each row's entry in encoding 1, written from a template of the constant parts.

    The template is workflow.audit's canonical JSON with the varying values (all ASCII, so NFC
    leaves them as they are) put in; `check` holds it to `audit.entry_fields`/`hash_fields` for
    the first row of every batch, so a change of the encoding can never pass unnoticed.
    """

    def __init__(self, campaign: DueCampaign, now: datetime) -> None:
        self.now = now
        self.deadline = campaign.report_deadline.isoformat()
        self.payload = {"deadline": self.deadline}
        self.payload_json = audit.canonical_json(self.payload)
        actor = audit.canonical_json(
            {
                "id": audit.SYSTEM.id,
                "name": audit.SYSTEM.name,
                "role": audit.SYSTEM.role,
                "unit": audit.SYSTEM.unit,
            }
        )
        at = audit.canonical_json(
            audit.entry_fields(
                stream="",
                seq=0,
                at=now,
                actor=audit.SYSTEM,
                trigger="",
                from_state=None,
                to_state=None,
                reason=None,
                payload={},
                definition_version=0,
                prev_hash="",
            )["at"]
        )
        self.head = '{"actor":' + actor + ',"at":' + at + ',"definition_version":'
        self.tail = (
            ',"reason":null,"seq":{seq},"stream":"nomination:{id}","to":"'
            + str(State.EXPIRED)
            + '","trigger":"'
            + str(Trigger.EXPIRE)
            + '","v":1}}'
        )

    def text(self, nid: int, seq: int, state: str, definition: int, prev: str) -> str:
        return (
            f'{self.head}{definition},"from":"{state}","payload":{self.payload_json},'
            f'"prev":"{prev}"' + self.tail.format(seq=seq, id=nid)
        )

    def check(self, nid: int, seq: int, state: str, definition: int, prev: str) -> None:
        fields = audit.entry_fields(
            stream=f"nomination:{nid}",
            seq=seq,
            at=self.now,
            actor=audit.SYSTEM,
            trigger=Trigger.EXPIRE,
            from_state=state,
            to_state=str(State.EXPIRED),
            reason=None,
            payload=self.payload,
            definition_version=definition,
            prev_hash=prev,
        )
        if audit.canonical_json(fields) != self.text(nid, seq, state, definition, prev):
            raise RuntimeError("the expiry entry's encoding differs from workflow.audit's")


def _statements(connection: Connection) -> tuple[str, str, str]:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    # The outbox payload is JSON text, as SQLAlchemy's JSON type writes it (json.dumps).
    as_json = mark if connection.dialect.name == "sqlite" else f"CAST({mark} AS JSON)"
    update_sql = (
        f"UPDATE nominations SET state = '{State.EXPIRED}', awaiting = NULL, updated_at = {mark}, "
        f"version = {mark}, last_hash = {mark} WHERE id = {mark} AND version = {mark}"
    )
    audit_sql = (
        "INSERT INTO audit_log (stream, seq, at, actor_id, actor_name, actor_role, actor_unit, "
        "trigger, from_state, to_state, reason, payload, definition_version, encoding, "
        f"prev_hash, hash) VALUES ({mark}, {mark}, {mark}, NULL, {mark}, {mark}, NULL, "
        f"'{Trigger.EXPIRE}', {mark}, '{State.EXPIRED}', NULL, {mark}, {mark}, "
        f"{audit.ENCODING}, {mark}, {mark})"
    )
    outbox_sql = (
        "INSERT INTO outbox (key, event, template, recipient_id, channel, payload, "
        "nomination_id, campaign_id, created_at, next_attempt_at, attempts) VALUES "
        f"({mark}, 'expired', 'expired', {mark}, NULL, {as_json}, "
        f"{mark}, {mark}, {mark}, {mark}, 0)"
    )
    return update_sql, audit_sql, outbox_sql


def _bind(connection: Connection, column: Any, value: Any) -> Any:
    """`value` as SQLAlchemy would bind it for `column` on this connection's database."""
    processor = column.type.bind_processor(connection.dialect)
    return processor(value) if processor else value


def _batch(
    engine: Engine, campaign: DueCampaign, now: datetime, fencing: int | None, size: int
) -> int:
    encoder = _Encoder(campaign, now)
    with engine.begin() as connection:
        check_fencing(connection, fencing)
        rows = connection.execute(_select(campaign.id, size)).all()
        if not rows:
            return 0
        at = _bind(connection, _AUDIT.c.at, now)
        first = rows[0]
        encoder.check(
            first.id, first.version + 1, first.state, first.definition_version, first.last_hash
        )
        system = (audit.SYSTEM.name, audit.SYSTEM.role)
        updates, entries, messages = [], [], []
        sha256 = hashlib.sha256
        for nid, state, version, prev, definition, title, nominee, proposer in rows:
            seq = version + 1
            digest = sha256(encoder.text(nid, seq, state, definition, prev).encode()).hexdigest()
            updates.append((at, seq, digest, nid, version))
            entries.append(
                (
                    f"nomination:{nid}",
                    seq,
                    at,
                    *system,
                    state,
                    encoder.payload_json,
                    definition,
                    prev,
                    digest,
                )
            )
            body = {
                "nomination_id": nid,
                "title": title,
                "nominee_name": nominee,
                "campaign_code": campaign.code,
                "campaign_name": campaign.name,
                "state": str(State.EXPIRED),
                "deadline": encoder.deadline,
            }
            messages.append(
                (
                    f"expired:{nid}",
                    proposer,
                    json.dumps(body),
                    nid,
                    campaign.id,
                    at,
                    at,
                )
            )
        update_sql, audit_sql, outbox_sql = _statements(connection)
        done = connection.exec_driver_sql(update_sql, updates)
        if done.rowcount != len(rows):
            raise _Raced(f"{len(rows) - done.rowcount} of {len(rows)} rows changed meanwhile")
        connection.exec_driver_sql(audit_sql, entries)
        connection.exec_driver_sql(outbox_sql, messages)
        return len(rows)


def expire_campaign(
    engine: Engine,
    campaign: DueCampaign,
    now: datetime,
    fencing: int | None = None,
    batch: int = 5000,
) -> int:
    """Expire every open nomination of `campaign` as of `now`; the number expired by this call."""
    total, retries = 0, 0
    while True:
        try:
            done = _batch(engine, campaign, now, fencing, batch)
        except (_Raced, IntegrityError) as exc:
            retries += 1
            log.info("expiry.batch_retried", campaign=campaign.code, why=str(exc)[:200])
            if retries > _MAX_RETRIES:
                raise
            continue
        if done == 0:
            break
        total += done
    if total:
        log.info("expiry.done", campaign=campaign.code, expired=total)
    return total
