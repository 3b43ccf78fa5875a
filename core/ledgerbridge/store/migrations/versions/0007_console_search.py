"""console search and trend: records of a pipeline by state and last change (the overview's
7-day trend per state), records of a pipeline by first-seen time (the records search by
date range), and audit events by the target document number the write was given (the
records search by ``INV-000123``)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The document number lives in the write's audit details (``details.number``); the index is
# on the very expression the records search filters on (``console_models.DocumentNumber``,
# spelled per dialect).
NUMBER = {
    "sqlite": "json_extract(details, '$.number')",
    "postgresql": "(details ->> 'number')",
}


def upgrade() -> None:
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_records_pipeline_state_updated",
            ["pipeline_id", "state", "updated_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_sync_records_pipeline_created", ["pipeline_id", "created_at", "id"], unique=False
        )
    expression = NUMBER.get(op.get_bind().dialect.name)
    if expression is not None:
        op.execute(f"CREATE INDEX ix_audit_events_number ON audit_events ({expression})")


def downgrade() -> None:
    if op.get_bind().dialect.name in NUMBER:
        op.execute("DROP INDEX ix_audit_events_number")
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_records_pipeline_created")
        batch_op.drop_index("ix_sync_records_pipeline_state_updated")
