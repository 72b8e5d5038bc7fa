"""Councils of a campaign's review levels, their votes, and approvers' delegations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from workflow.tables import BigId, UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "councils",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("threshold", sa.String(16), nullable=False),
        sa.Column("required", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("campaign_id", "level", name="uq_councils_campaign_level"),
    )
    op.create_table(
        "council_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("council_id", sa.Integer, sa.ForeignKey("councils.id"), nullable=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.UniqueConstraint("council_id", "person_id"),
    )
    op.create_index("ix_council_members_council_id", "council_members", ["council_id"])
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delegator_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("substitute_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id")),
        sa.Column("starts_at", UtcDateTime(), nullable=False),
        sa.Column("ends_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_delegations_delegator_id", "delegations", ["delegator_id"])
    op.create_index("ix_delegations_substitute", "delegations", ["substitute_id", "starts_at"])
    op.create_table(
        "council_votes",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("nomination_id", BigId, sa.ForeignKey("nominations.id"), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("visit", sa.Integer, nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("cast_by_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("delegation_id", sa.Integer, sa.ForeignKey("delegations.id")),
        sa.Column("approve", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("cast_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("nomination_id", "level", "visit", "member_id", name="uq_vote_member"),
        sa.UniqueConstraint("nomination_id", "level", "visit", "cast_by_id", name="uq_vote_caster"),
    )
    op.create_index("ix_council_votes_nomination_id", "council_votes", ["nomination_id"])


def downgrade() -> None:
    op.drop_table("council_votes")
    op.drop_table("delegations")
    op.drop_table("council_members")
    op.drop_table("councils")
