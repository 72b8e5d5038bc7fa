"""The outbox as the dispatcher's `Store`: claim under a lease, settle after the attempt.

Claiming is one short transaction: due messages (not delivered, not parked, next attempt come,
no live lease) are locked — `FOR UPDATE SKIP LOCKED` on PostgreSQL, so dispatchers running side
by side take different rows; SQLite's BEGIN IMMEDIATE serialises claims — and leased to the
dispatcher (`claimed_by`, `claimed_until`) with their attempt counted. A dispatcher killed
mid-batch loses nothing: once its lease runs out the messages are due again.

A message written without a channel (channel NULL) is *fanned out* when it is claimed: one
message per channel of its recipient (see `workflow.person_channels`), keyed `<key>/<channel>`,
is written and claimed in its place; the original is kept as a record with channel `*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from notifications import Message, Outcome
from workflow.person_channels import routes
from workflow.tables import OutboxMessage, Person

__all__ = ["FANNED_OUT", "SqlStore"]

#: The channel of a message that was fanned out to its recipient's channels.
FANNED_OUT = "*"


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._locking = engine.dialect.name == "postgresql"

    def claim(self, now: datetime, limit: int, lease: timedelta, worker: str) -> list[Message]:
        session = Session(self.engine, expire_on_commit=False, autoflush=False)
        with session, session.begin():
            due = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.delivered_at.is_(None),
                    OutboxMessage.parked_at.is_(None),
                    OutboxMessage.next_attempt_at <= now,
                    or_(
                        OutboxMessage.claimed_until.is_(None),
                        OutboxMessage.claimed_until <= now,
                    ),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
            if self._locking:
                due = due.with_for_update(skip_locked=True)
            rows = list(session.scalars(due))
            parents = [row for row in rows if row.channel is None]
            rows = [row for row in rows if row.channel is not None]
            if parents:
                rows += self._fan_out(session, parents, now)
                session.flush()
            if not rows:
                return []
            until = now + lease
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in rows]))
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    claimed_until=until,
                    claimed_by=worker,
                )
                .execution_options(synchronize_session=False)
            )
            names = self._names(session, rows)
            needs = [r.recipient_id for r in rows if r.address is None and r.recipient_id]
            found = routes(session, needs) if needs else {}
            return [
                Message(
                    id=row.id,
                    key=row.key,
                    event=row.event,
                    template=row.template,
                    channel=str(row.channel),
                    address=row.address or _address(found, row),
                    recipient_id=row.recipient_id,
                    recipient_name=names.get(row.recipient_id or 0),
                    payload=row.payload,
                    attempts=row.attempts + 1,
                    created_at=row.created_at,
                )
                for row in rows
            ]

    @staticmethod
    def _names(session: Session, rows: Sequence[OutboxMessage]) -> dict[int, str]:
        ids = {row.recipient_id for row in rows if row.recipient_id is not None}
        if not ids:
            return {}
        return dict(
            session.execute(select(Person.id, Person.full_name).where(Person.id.in_(ids))).all()
        )

    @staticmethod
    def _fan_out(
        session: Session, parents: Sequence[OutboxMessage], now: datetime
    ) -> list[OutboxMessage]:
        found = routes(session, [p.recipient_id for p in parents if p.recipient_id is not None])
        children: list[OutboxMessage] = []
        for parent in parents:
            targets = found.get(parent.recipient_id or 0, [("log", None)])
            for channel, address in targets:
                children.append(
                    OutboxMessage(
                        key=f"{parent.key}/{channel}",
                        event=parent.event,
                        template=parent.template,
                        recipient_id=parent.recipient_id,
                        channel=channel,
                        address=address,
                        payload=parent.payload,
                        nomination_id=parent.nomination_id,
                        campaign_id=parent.campaign_id,
                        created_at=parent.created_at,
                        next_attempt_at=now,
                        attempts=0,
                    )
                )
            parent.channel = FANNED_OUT
            parent.delivered_at = now
            parent.last_error = None
        session.add_all(children)
        return children

    def settle(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        delivered = [o.message.id for o in outcomes if o.delivered]
        retried = [
            {"b_id": o.message.id, "b_next": o.retry_at, "b_error": o.error}
            for o in outcomes
            if o.retry_at is not None and not o.delivered and not o.released
        ]
        released = [{"b_id": o.message.id, "b_next": o.retry_at} for o in outcomes if o.released]
        parked = [{"b_id": o.message.id, "b_error": o.error} for o in outcomes if o.parked]
        table = cast(Table, OutboxMessage.__table__)
        with Session(self.engine) as session, session.begin():
            if delivered:
                session.execute(
                    update(table)
                    .where(table.c.id.in_(delivered))
                    .values(delivered_at=now, last_error=None, claimed_until=None, claimed_by=None)
                )
            if retried:
                session.connection().execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"), table.c.delivered_at.is_(None))
                    .values(
                        next_attempt_at=bindparam("b_next"),
                        last_error=bindparam("b_error"),
                        claimed_until=None,
                        claimed_by=None,
                    ),
                    retried,
                )
            if released:
                session.connection().execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"), table.c.delivered_at.is_(None))
                    .values(
                        next_attempt_at=bindparam("b_next"),
                        attempts=table.c.attempts - 1,
                        claimed_until=None,
                        claimed_by=None,
                    ),
                    released,
                )
            if parked:
                session.connection().execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"), table.c.delivered_at.is_(None))
                    .values(
                        parked_at=now,
                        last_error=bindparam("b_error"),
                        claimed_until=None,
                        claimed_by=None,
                    ),
                    parked,
                )


def _address(found: dict[int, list[tuple[str, str | None]]], row: OutboxMessage) -> str | None:
    """The address of a message written with a channel but none: the recipient's for it."""
    for channel, address in found.get(row.recipient_id or 0, []):
        if channel == row.channel:
            return address
    return None
