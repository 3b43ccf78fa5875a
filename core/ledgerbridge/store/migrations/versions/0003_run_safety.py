"""run safety: a connection's dead-credentials flag

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ledgerbridge.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reconnect_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "reconnect_since",
                ledgerbridge.store.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_column("reconnect_since")
        batch_op.drop_column("reconnect_reason")
