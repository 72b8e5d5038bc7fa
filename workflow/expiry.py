"""The report deadline's sweep, set-based: every `registered` or `implemented` nomination of a
campaign becomes `expired`, each with its own hash-chained audit entry and an outbox message.

A batch is one transaction: select up to `batch` due rows (on PostgreSQL `FOR UPDATE SKIP LOCKED`,
so two sweepers take different rows), compute each entry's hash with workflow.audit's functions,
then one executemany UPDATE guarded by each row's version, one bulk INSERT of audit entries and
one of outbox messages. If another writer changed a row meanwhile (fewer rows updated than
selected, or an audit sequence already taken), the batch is rolled back and selected again, so
no nomination ever gets two entries for one expiry. The entries are exactly those
`nominations.change()` with `audit.record()` would write, so `audit verify` and replay accept them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Engine, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from states import State, Trigger
from workflow import audit
from workflow.lease import check_fencing
from workflow.tables import AuditEntry, Nomination, OutboxMessage

__all__ = ["EXPIRABLE", "DueCampaign", "expire_campaign"]

log = structlog.get_logger("thidua.deadlines")

#: The states the state model lets `expire` leave (a unit test holds this to the machine).
EXPIRABLE: tuple[str, ...] = (str(State.REGISTERED), str(State.IMPLEMENTED))
_NOMINATIONS = cast(Table, Nomination.__table__)
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


def _writes(
    rows: Sequence[Any], campaign: DueCampaign, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    deadline = audit.canonical_json({"deadline": campaign.report_deadline.isoformat()})
    payload = {"deadline": campaign.report_deadline.isoformat()}
    expired = str(State.EXPIRED)
    updates, entries, messages = [], [], []
    for row in rows:
        stream = f"nomination:{row.id}"
        seq = row.version + 1
        fields = audit.entry_fields(
            stream=stream,
            seq=seq,
            at=now,
            actor=audit.SYSTEM,
            trigger=Trigger.EXPIRE,
            from_state=row.state,
            to_state=expired,
            reason=None,
            payload=payload,
            definition_version=row.definition_version,
            prev_hash=row.last_hash,
        )
        digest = audit.hash_fields(fields)
        updates.append({"b_id": row.id, "b_version": row.version, "b_seq": seq, "b_hash": digest})
        entries.append(
            {
                "stream": stream,
                "seq": seq,
                "at": now,
                "actor_id": None,
                "actor_name": audit.SYSTEM.name,
                "actor_role": audit.SYSTEM.role,
                "actor_unit": None,
                "trigger": str(Trigger.EXPIRE),
                "from_state": row.state,
                "to_state": expired,
                "reason": None,
                "payload": deadline,
                "definition_version": row.definition_version,
                "encoding": audit.ENCODING,
                "prev_hash": row.last_hash,
                "hash": digest,
            }
        )
        messages.append(
            {
                "key": f"expired:{row.id}",
                "event": "expired",
                "template": "expired",
                "recipient_id": row.proposer_id,
                "channel": None,
                "payload": {
                    "nomination_id": row.id,
                    "title": row.title,
                    "nominee_name": row.nominee_name,
                    "campaign_code": campaign.code,
                    "campaign_name": campaign.name,
                    "state": expired,
                    "deadline": campaign.report_deadline.isoformat(),
                },
                "nomination_id": row.id,
                "campaign_id": campaign.id,
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
        )
    return updates, entries, messages


_UPDATE = (
    update(_NOMINATIONS)
    .where(
        _NOMINATIONS.c.id == bindparam("b_id"),
        _NOMINATIONS.c.version == bindparam("b_version"),
    )
    .values(
        state=str(State.EXPIRED),
        awaiting=None,
        version=bindparam("b_seq"),
        last_hash=bindparam("b_hash"),
    )
)


def _batch(
    engine: Engine, campaign: DueCampaign, now: datetime, fencing: int | None, size: int
) -> int:
    with engine.begin() as connection:
        check_fencing(connection, fencing)
        rows = connection.execute(_select(campaign.id, size)).all()
        if not rows:
            return 0
        updates, entries, messages = _writes(rows, campaign, now)
        done = connection.execute(_UPDATE.values(updated_at=now), updates)
        if done.rowcount != len(rows):
            raise _Raced(f"{len(rows) - done.rowcount} of {len(rows)} rows changed meanwhile")
        connection.execute(insert(_AUDIT), entries)
        connection.execute(insert(_OUTBOX), messages)
        return len(rows)


def expire_campaign(
    engine: Engine,
    campaign: DueCampaign,
    now: datetime,
    fencing: int | None = None,
    batch: int = 2000,
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
