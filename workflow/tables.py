"""The schema, mapped with SQLAlchemy 2; the Alembic migrations in `migrations/` create it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workflow.timeutil import as_utc

__all__ = [
    "AuditEntry",
    "Base",
    "Campaign",
    "Nomination",
    "OutboxMessage",
    "Person",
    "PersonChannel",
    "RoleGrant",
    "Unit",
    "UtcDateTime",
]


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone: it stores UTC, naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Unit(Base):
    """An administrative unit (province, district, commune/ward) or an agency attached to one."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: "/id/id/…/" from the root: a unit covers every unit whose path starts with its own.
    path: Mapped[str] = mapped_column(String(512), index=True)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    grants: Mapped[list[RoleGrant]] = relationship(lazy="raise")


class RoleGrant(Base):
    """A role held by a person over a unit and the units below it."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    unit: Mapped[Unit] = relationship(lazy="raise")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    award_level: Mapped[str] = mapped_column(String(16))
    #: The review levels of this campaign's administration, lowest first, comma-separated.
    tiers: Mapped[str] = mapped_column(String(64))
    registration_deadline: Mapped[datetime]
    report_deadline: Mapped[datetime]
    areas: Mapped[list[str]] = mapped_column(JSON)
    nominee_kinds: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    issuing_unit: Mapped[Unit] = relationship(lazy="raise")

    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy's declared name
        "version_id_col": version,
        "version_id_generator": False,
    }


class Nomination(Base):
    """One nominee with one initiative in one campaign, proposed by an officer of a unit."""

    __tablename__ = "nominations"
    __table_args__ = (
        Index("ix_nominations_campaign_state", "campaign_id", "state"),
        Index("ix_nominations_awaiting", "awaiting"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    nominee_kind: Mapped[str] = mapped_column(String(16))
    nominee_name: Mapped[str] = mapped_column(String(200))
    nominee_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    title: Mapped[str] = mapped_column(String(500))
    area: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    #: The level whose review the nomination waits for (derived from state and chain, for inboxes).
    awaiting: Mapped[str | None] = mapped_column(String(16))
    chain: Mapped[str] = mapped_column(String(64))
    definition_version: Mapped[int] = mapped_column(Integer)
    returned_level: Mapped[str | None] = mapped_column(String(16))
    returns: Mapped[int] = mapped_column(Integer)
    #: Who signed off at each level: {"commune": [person id, …], …}.
    signoffs: Mapped[dict[str, Any]] = mapped_column(JSON)
    award_number: Mapped[str | None] = mapped_column(String(64))
    award_date: Mapped[date | None] = mapped_column(Date)
    award_form: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    #: Hash of the newest audit entry of this nomination's stream.
    last_hash: Mapped[str] = mapped_column(String(64))

    campaign: Mapped[Campaign] = relationship(lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")

    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy's declared name
        "version_id_col": version,
        "version_id_generator": False,
    }


class AuditEntry(Base):
    """One change, append-only; database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("stream", "seq", name="uq_audit_stream_seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    stream: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_unit: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    #: The payload's canonical JSON text, exactly as hashed.
    payload: Mapped[str] = mapped_column(Text)
    definition_version: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboxMessage(Base):
    """A notification a change caused, written in that change's transaction (DESIGN §7).

    The dispatcher delivers it at least once; `key` makes a second delivery recognisable.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "parked_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Idempotency key: one message per (event, subject, recipient, channel).
    key: Mapped[str] = mapped_column(String(200), unique=True)
    #: What happened, past tense: "awaiting_review", "returned", "reminder", "escalated", …
    event: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    #: "email", "webhook" or "log"; None until the dispatcher chooses from the person's settings.
    channel: Mapped[str | None] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    nomination_id: Mapped[int | None] = mapped_column(BigId, index=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None]
    parked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: E-mail address or webhook URL, fixed when a message is fanned out to its channels.
    address: Mapped[str | None] = mapped_column(String(500))
    #: The lease of the dispatcher that claimed it: until then no other dispatcher takes it.
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))


class PersonChannel(Base):
    """A channel a person chose to hear notifications on (none chosen: e-mail to their address)."""

    __tablename__ = "person_channels"
    __table_args__ = (UniqueConstraint("person_id", "channel", name="uq_person_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    #: "email", "webhook" or "log".
    channel: Mapped[str] = mapped_column(String(16))
    #: E-mail address or webhook URL; None for the log, or e-mail to the person's address.
    address: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
