"""write intents and xref snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledgerbridge.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_intents",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("pipeline_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column(
            "created_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "completed_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sync_records.id"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("write_intents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_write_intents_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_write_intents_scope"), ["scope"], unique=False)
        batch_op.create_index(batch_op.f("ix_write_intents_tenant_id"), ["tenant_id"], unique=False)

    with op.batch_alter_table("cross_references", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("snapshot", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("cross_references", schema=None) as batch_op:
        batch_op.drop_column("snapshot")

    with op.batch_alter_table("write_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_write_intents_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_write_intents_scope"))
        batch_op.drop_index(batch_op.f("ix_write_intents_record_id"))

    op.drop_table("write_intents")
