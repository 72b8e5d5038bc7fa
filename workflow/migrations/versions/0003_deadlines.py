"""Deadlines: campaign time limits, done deadline work, escalations, the scheduler lease.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from workflow.tables import BigId, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_schedules",
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("review_days", sa.Integer, nullable=False),
        sa.Column("reminder_days", sa.JSON, nullable=False),
        sa.Column("registration_closed_at", UtcDateTime()),
    )
    op.create_table(
        "deadline_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("deadline", UtcDateTime(), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=False),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.UniqueConstraint("campaign_id", "kind", "what", "deadline"),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nomination_id", BigId, sa.ForeignKey("nominations.id"), nullable=False),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("to_level", sa.String(16), nullable=False),
        sa.Column("to_unit_id", sa.Integer, sa.ForeignKey("units.id")),
        sa.Column("visit_seq", sa.Integer, nullable=False),
        sa.Column("reached_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("raised_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("nomination_id", "visit_seq", name="uq_escalation_visit"),
    )
    op.create_index("ix_escalations_nomination_id", "escalations", ["nomination_id"])
    op.create_table(
        "scheduler_lease",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("fencing", BigId, nullable=False),
    )


def downgrade() -> None:
    for table in ("scheduler_lease", "escalations", "deadline_events", "campaign_schedules"):
        op.drop_table(table)
