"""Tables of award rounds: campaign rules, scores, publications for comment and decisions.

Kept beside workflow/tables.py (same `Base`), created by migration 0006.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.tables import Base, BigId

__all__ = [
    "AwardDecision",
    "CampaignRules",
    "DecisionItem",
    "NominationTerms",
    "Publication",
    "PublicationItem",
    "Score",
]


class CampaignRules(Base):
    """A campaign's criteria, quotas per round and public-comment setting."""

    __tablename__ = "campaign_rules"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    #: [{"code", "name", "max_points"}, …]
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: {"collective": 4, "individual": 6}: awards per round and nominee kind.
    quotas: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The forms published for comment before their decision; None: the default forms.
    public_comment_forms: Mapped[list[str] | None] = mapped_column(JSON)
    public_comment_days: Mapped[int] = mapped_column(Integer)


class NominationTerms(Base):
    """What a nomination seeks, pinned at registration: its round and its award form."""

    __tablename__ = "nomination_terms"

    nomination_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("nominations.id"), primary_key=True
    )
    round: Mapped[str] = mapped_column(String(16))
    sought_form: Mapped[str | None] = mapped_column(String(64))


class Score(Base):
    """The current points of one criterion of a nomination; each scoring is also audited."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("nomination_id", "criterion"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    nomination_id: Mapped[int] = mapped_column(BigId, ForeignKey("nominations.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))
    scorer_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    scored_at: Mapped[datetime]


class AwardDecision(Base):
    """A decision (quyết định): an award over a batch, or the revocation of an award."""

    __tablename__ = "award_decisions"
    __table_args__ = (UniqueConstraint("issuing_unit_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: "award" or "revocation".
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(64), index=True)
    decided_on: Mapped[date] = mapped_column(Date)
    form: Mapped[str | None] = mapped_column(String(64))
    issuing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    signer_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    round: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class DecisionItem(Base):
    """One nomination named in a decision."""

    __tablename__ = "decision_items"
    __table_args__ = (UniqueConstraint("decision_id", "nomination_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    decision_id: Mapped[int] = mapped_column(BigId, ForeignKey("award_decisions.id"), index=True)
    nomination_id: Mapped[int] = mapped_column(BigId, ForeignKey("nominations.id"), index=True)
    nominee_kind: Mapped[str] = mapped_column(String(16))


class Publication(Base):
    """A batch published for comment from `published_at` until `ends_at` (working days)."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    form: Mapped[str] = mapped_column(String(64))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    published_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class PublicationItem(Base):
    """A nomination in a publication, and the objection raised against it, if any."""

    __tablename__ = "publication_items"
    __table_args__ = (UniqueConstraint("publication_id", "nomination_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    publication_id: Mapped[int] = mapped_column(BigId, ForeignKey("publications.id"), index=True)
    nomination_id: Mapped[int] = mapped_column(BigId, ForeignKey("nominations.id"), index=True)
    objected_at: Mapped[datetime | None]
    objector_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    objection: Mapped[str | None] = mapped_column(Text)
