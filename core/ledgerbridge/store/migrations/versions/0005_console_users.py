"""console users: the people who may log in to the operator console; records by
pipeline and state (the console's counts and state lists); audit events by tenant and time
(the audit export)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledgerbridge.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("tenants", sa.JSON(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_records_pipeline_state", ["pipeline_id", "state"], unique=False
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_tenant_at", ["tenant_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_tenant_at")
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_records_pipeline_state")
    op.drop_table("console_users")
