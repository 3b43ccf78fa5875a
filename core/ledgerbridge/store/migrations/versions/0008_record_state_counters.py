"""record state counters: how many records of a pipeline are in each state, per day of their
last change -- kept by the journal with every record it creates or moves, read by the
console's overview instead of counting the records; filled here from the records stored

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The UTC day of a record's last change, per dialect (SQLite keeps UTC text, PostgreSQL a
# timestamptz); the same expression as ``store/record_counts.day_of``.
DAY = {
    "sqlite": "date(updated_at)",
    "postgresql": "CAST((updated_at AT TIME ZONE 'UTC') AS DATE)",
}


def upgrade() -> None:
    op.create_table(
        "record_state_counts",
        sa.Column("pipeline_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenant_id", sa.String(length=100), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pipeline_id", "state", "day", "tenant_id"),
    )
    day = DAY.get(op.get_bind().dialect.name, "CAST(updated_at AS DATE)")
    op.execute(  # ``day`` is one of the constants above
        "INSERT INTO record_state_counts (pipeline_id, state, day, tenant_id, records) "  # noqa: S608
        f"SELECT pipeline_id, state, {day}, tenant_id, COUNT(*) FROM sync_records "
        f"GROUP BY pipeline_id, state, {day}, tenant_id"
    )


def downgrade() -> None:
    op.drop_table("record_state_counts")
