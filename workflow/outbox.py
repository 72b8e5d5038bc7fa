"""Writing notifications into the outbox, inside the transaction of the change that causes them.

A rolled-back command leaves no message; a committed one leaves each message exactly once, since
the idempotency key is unique. Delivery is the dispatcher's work (`notifications`, with the store
in `workflow.outbox_store`). A message written with channel None is fanned out to its recipient's
channels when the dispatcher claims it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workflow.errors import InvalidInput, InvalidTransition, NotFound
from workflow.tables import OutboxMessage, Person

__all__ = ["STATES", "enqueue", "list_messages", "requeue"]

#: The states `thidua notifications --state` lists.
STATES = ("pending", "delivered", "parked")
_KEYS = "thidua.outbox_keys"


def enqueue(
    session: Session,
    *,
    key: str,
    event: str,
    template: str,
    recipient_id: int | None,
    payload: dict[str, Any],
    now: datetime,
    nomination_id: int | None = None,
    campaign_id: int | None = None,
    channel: str | None = None,
    fresh: bool = False,
) -> bool:
    """Add one message to the outbox (one INSERT, at once), or nothing when a message with
    `key` is already there; True when it was added.

    `fresh`: the caller knows the key is new (it holds the version of the change that causes
    it), so the database is not asked; a taken key then fails the command.
    """
    written: set[str] = session.info.setdefault(_KEYS, set())
    if key in written or (
        not fresh and session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))
    ):
        return False
    session.connection().execute(
        _INSERT,
        {
            "key": key,
            "event": event,
            "template": template,
            "recipient_id": recipient_id,
            "channel": channel,
            "payload": payload,
            "nomination_id": nomination_id,
            "campaign_id": campaign_id,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        },
    )
    written.add(key)
    return True


#: One message's INSERT, built once.
_INSERT = insert(OutboxMessage)


def _state(row: OutboxMessage) -> str:
    if row.delivered_at is not None:
        return "delivered"
    return "parked" if row.parked_at is not None else "pending"


def list_messages(
    session: Session, state: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Messages, newest first; `state` one of STATES. Fanned-out originals are left out."""
    query = (
        select(OutboxMessage, Person.username)
        .outerjoin(Person, OutboxMessage.recipient_id == Person.id)
        .where(OutboxMessage.channel.is_distinct_from("*"))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if state is not None:
        if state not in STATES:
            raise InvalidInput(f"state '{state}' is not one of {', '.join(STATES)}")
        if state == "delivered":
            query = query.where(OutboxMessage.delivered_at.is_not(None))
        elif state == "parked":
            query = query.where(OutboxMessage.parked_at.is_not(None))
        else:
            query = query.where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.parked_at.is_(None)
            )
    return [
        {
            "id": row.id,
            "key": row.key,
            "event": row.event,
            "recipient": username,
            "channel": row.channel,
            "address": row.address,
            "state": _state(row),
            "attempts": row.attempts,
            "created_at": row.created_at,
            "next_attempt_at": row.next_attempt_at,
            "delivered_at": row.delivered_at,
            "parked_at": row.parked_at,
            "last_error": row.last_error,
        }
        for row, username in session.execute(query)
    ]


def requeue(session: Session, message_id: int, now: datetime) -> OutboxMessage:
    """Put a parked message back in the queue, due now, with its attempts counted afresh."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise NotFound(f"no notification with id {message_id}")
    if row.parked_at is None:
        raise InvalidTransition(
            f"notification {message_id} is {_state(row)}, not parked; only a parked one is retried"
        )
    row.parked_at = None
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_until = None
    row.claimed_by = None
    return row
