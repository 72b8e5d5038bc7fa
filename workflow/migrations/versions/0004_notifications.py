"""Notifications: people's channels, and the outbox's address and dispatcher lease.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from workflow.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_channels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("persons.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(500)),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.UniqueConstraint("person_id", "channel", name="uq_person_channel"),
    )
    op.create_index("ix_person_channels_person_id", "person_channels", ["person_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("address", sa.String(500)))
        batch.add_column(sa.Column("claimed_until", UtcDateTime()))
        batch.add_column(sa.Column("claimed_by", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_until")
        batch.drop_column("address")
    op.drop_table("person_channels")
