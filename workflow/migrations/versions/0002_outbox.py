"""The transactional outbox of notifications.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from workflow.tables import BigId, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("recipient_id", sa.Integer, sa.ForeignKey("persons.id")),
        sa.Column("channel", sa.String(16)),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("nomination_id", BigId),
        sa.Column("campaign_id", sa.Integer),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("delivered_at", UtcDateTime()),
        sa.Column("parked_at", UtcDateTime()),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_outbox_recipient_id", "outbox", ["recipient_id"])
    op.create_index("ix_outbox_nomination_id", "outbox", ["nomination_id"])
    op.create_index("ix_outbox_due", "outbox", ["delivered_at", "parked_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
