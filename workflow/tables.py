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
    "ApiToken",
    "AuditEntry",
    "Base",
    "Campaign",
    "Council",
    "CouncilMember",
    "CouncilVote",
    "Delegation",
    "Nomination",
    "OutboxMessage",
    "Person",
    "PersonChannel",
    "RoleGrant",
    "SignInFailure",
    "Unit",
    "UtcDateTime",
    "WebSession",
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
    #: Argon2 hash of the web sign-in password (pwdlib); None: this person cannot sign in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
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


# -- councils and delegation ----------------------------------------------------------------------


class Council(Base):
    """A campaign's council (Hội đồng Thi đua – Khen thưởng) at one review level.

    A level with a council is completed by its members' votes instead of one approver's sign-off:
    `required` approvals of the members (a share of all members, or N of M, as `threshold` says).
    """

    __tablename__ = "councils"
    __table_args__ = (UniqueConstraint("campaign_id", "level", name="uq_councils_campaign_level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    level: Mapped[str] = mapped_column(String(16))
    #: As set: "90%" (a share of all members) or "3/4" (N of M).
    threshold: Mapped[str] = mapped_column(String(16))
    #: Approvals needed to complete the level.
    required: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    members: Mapped[list[CouncilMember]] = relationship(lazy="raise", cascade="all, delete-orphan")


class CouncilMember(Base):
    __tablename__ = "council_members"
    __table_args__ = (UniqueConstraint("council_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))


class CouncilVote(Base):
    """One member's vote on one visit of a nomination at a council level.

    `visit` is the audit sequence of the entry that brought the nomination to the level: a return
    and resubmission start a new visit, so the votes of the old one stop counting (they stay here
    and in the audit log).
    """

    __tablename__ = "council_votes"
    __table_args__ = (
        UniqueConstraint("nomination_id", "level", "visit", "member_id", name="uq_vote_member"),
        UniqueConstraint("nomination_id", "level", "visit", "cast_by_id", name="uq_vote_caster"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    nomination_id: Mapped[int] = mapped_column(BigId, ForeignKey("nominations.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    visit: Mapped[int] = mapped_column(Integer)
    #: The council member whose vote this is.
    member_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    #: Who cast it: the member, or their substitute under `delegation_id`.
    cast_by_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    approve: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)
    cast_at: Mapped[datetime]


class Delegation(Base):
    """An approver's substitute for a period, optionally only for the units below `unit_id`."""

    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_substitute", "substitute_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegator_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: The period, [starts_at, ends_at): from the start of the first day to the end of the last.
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    unit: Mapped[Unit | None] = relationship(lazy="raise")


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


class ApiToken(Base):
    """A person's bearer token for the HTTP API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie, its person, its CSRF token, its expiry."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SignInFailure(Base):
    """A refused sign-in: the name tried, from which client, when. Kept for the throttle's
    window (workflow.access.THROTTLE_MINUTES), then deleted."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_username_client", "username", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
