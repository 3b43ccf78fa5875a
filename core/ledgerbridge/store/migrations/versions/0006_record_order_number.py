"""order numbers on sync records: the number a merchant and an accountant see ("#1003"),
indexed with the source id so `audit '#1003'`, `replay` and the console find an order by
either without reading the table

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.create_index("ix_sync_records_number", ["number"], unique=False)
        batch_op.create_index("ix_sync_records_external_id", ["external_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_records_external_id")
        batch_op.drop_index("ix_sync_records_number")
        batch_op.drop_column("number")
