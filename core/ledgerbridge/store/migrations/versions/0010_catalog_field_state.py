"""catalog pipelines: every variant of each side as last read (SKU index, pending flag),
and per binding and field the value each side last held (docs/catalog.md)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from ledgerbridge.store.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "catalog_variants",
        sa.Column("pipeline_id", _STR(length=200), nullable=False),
        sa.Column("side", _STR(length=100), nullable=False),
        sa.Column("external_id", _STR(length=200), nullable=False),
        sa.Column("product_id", _STR(length=200), nullable=False),
        sa.Column("sku", _STR(length=200), nullable=True),
        sa.Column("barcode", _STR(length=200), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("handles", sa.JSON(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pipeline_id", "side", "external_id"),
    )
    op.create_index("ix_catalog_variants_sku", "catalog_variants", ["pipeline_id", "side", "sku"])
    op.create_index("ix_catalog_variants_pending", "catalog_variants", ["pipeline_id", "pending"])
    op.create_table(
        "catalog_field_state",
        sa.Column("pipeline_id", _STR(length=200), nullable=False),
        sa.Column("a_id", _STR(length=200), nullable=False),
        sa.Column("field", _STR(length=30), nullable=False),
        sa.Column("b_id", _STR(length=200), nullable=False),
        sa.Column("value_a", sa.Text(), nullable=True),
        sa.Column("value_b", sa.Text(), nullable=True),
        sa.Column("held_side", _STR(length=100), nullable=True),
        sa.Column("held_value", sa.Text(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pipeline_id", "a_id", "field"),
    )


def downgrade() -> None:
    op.drop_table("catalog_field_state")
    op.drop_index("ix_catalog_variants_pending", table_name="catalog_variants")
    op.drop_index("ix_catalog_variants_sku", table_name="catalog_variants")
    op.drop_table("catalog_variants")
