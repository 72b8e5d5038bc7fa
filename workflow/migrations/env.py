"""Alembic environment: runs on the connection `workflow.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from workflow.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through workflow.db.migrate (thidua init)")
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
