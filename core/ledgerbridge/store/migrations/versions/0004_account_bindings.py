"""account bindings: one target account (a Zoho Books organisation) belongs to one tenant

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledgerbridge.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_bindings",
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("connection_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("shared_with", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("account"),
    )
    with op.batch_alter_table("account_bindings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_bindings_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("account_bindings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_bindings_tenant_id"))
    op.drop_table("account_bindings")
