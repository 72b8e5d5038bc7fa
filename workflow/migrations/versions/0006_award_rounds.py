"""Award rounds: campaign rules, nomination terms, scores, publications, decisions.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from workflow.tables import BigId, UtcDateTime

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_rules",
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("criteria", sa.JSON, nullable=False),
        sa.Column("quotas", sa.JSON, nullable=False),
        sa.Column("public_comment_forms", sa.JSON),
        sa.Column("public_comment_days", sa.Integer, nullable=False),
    )
    op.create_table(
        "nomination_terms",
        sa.Column("nomination_id", BigId, sa.ForeignKey("nominations.id"), primary_key=True),
        sa.Column("round", sa.String(16), nullable=False),
        sa.Column("sought_form", sa.String(64)),
    )
    op.create_table(
        "scores",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("nomination_id", BigId, sa.ForeignKey("nominations.id"), nullable=False),
        sa.Column("criterion", sa.String(64), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("scorer_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("scored_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("nomination_id", "criterion"),
    )
    op.create_index("ix_scores_nomination_id", "scores", ["nomination_id"])
    op.create_table(
        "award_decisions",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("decided_on", sa.Date, nullable=False),
        sa.Column("form", sa.String(64)),
        sa.Column("issuing_unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=False),
        sa.Column("signer_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("round", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("issuing_unit_id", "number"),
    )
    op.create_index("ix_award_decisions_number", "award_decisions", ["number"])
    op.create_table(
        "decision_items",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("decision_id", BigId, sa.ForeignKey("award_decisions.id"), nullable=False),
        sa.Column("nomination_id", BigId, sa.ForeignKey("nominations.id"), nullable=False),
        sa.Column("nominee_kind", sa.String(16), nullable=False),
        sa.UniqueConstraint("decision_id", "nomination_id"),
    )
    op.create_index("ix_decision_items_decision_id", "decision_items", ["decision_id"])
    op.create_index("ix_decision_items_nomination_id", "decision_items", ["nomination_id"])
    op.create_table(
        "publications",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("form", sa.String(64), nullable=False),
        sa.Column("publisher_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "publication_items",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("publication_id", BigId, sa.ForeignKey("publications.id"), nullable=False),
        sa.Column("nomination_id", BigId, sa.ForeignKey("nominations.id"), nullable=False),
        sa.Column("objected_at", UtcDateTime()),
        sa.Column("objector_id", sa.Integer, sa.ForeignKey("persons.id")),
        sa.Column("objection", sa.Text),
        sa.UniqueConstraint("publication_id", "nomination_id"),
    )
    op.create_index("ix_publication_items_publication_id", "publication_items", ["publication_id"])
    op.create_index("ix_publication_items_nomination_id", "publication_items", ["nomination_id"])


def downgrade() -> None:
    for table in (
        "publication_items",
        "publications",
        "decision_items",
        "award_decisions",
        "scores",
        "nomination_terms",
        "campaign_rules",
    ):
        op.drop_table(table)
