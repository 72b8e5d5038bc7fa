"""Writing notifications into the outbox, inside the transaction of the change that causes them.

A rolled-back command leaves no message; a committed one leaves each message exactly once, since
the idempotency key is unique. Delivery is the dispatcher's work (`notifications`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.tables import OutboxMessage

__all__ = ["enqueue"]


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
) -> OutboxMessage | None:
    """Add one message to the outbox, or nothing when a message with `key` is already there.

    Returns the new message, or None when the key was taken (by an earlier sweep or command).
    """
    pending = next(
        (obj for obj in session.new if isinstance(obj, OutboxMessage) and obj.key == key),
        None,
    )
    if pending is not None or session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.key == key)
    ):
        return None
    message = OutboxMessage(
        key=key,
        event=event,
        template=template,
        recipient_id=recipient_id,
        channel=channel,
        payload=payload,
        nomination_id=nomination_id,
        campaign_id=campaign_id,
        created_at=now,
        next_attempt_at=now,
        attempts=0,
    )
    session.add(message)
    return message
