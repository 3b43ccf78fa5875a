"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ledgerbridge.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("pipeline_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column(
            "updated_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("pipeline_id", "entity"),
    )
    op.create_table(
        "cross_references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "source_connection_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "target_connection_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("target_kind", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column(
            "updated_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "tenant_id",
            "source_connection_id",
            "entity",
            "external_id",
            "target_connection_id",
            "target_kind",
        ),
    )
    with op.batch_alter_table("cross_references", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cross_references_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "inbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("connection_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "received_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "processed_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connection_id", "delivery_id"),
    )
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_events_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbox_events_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "leases",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "expires_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "acquired_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "sync_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("pipeline_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source_version", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("synced_version", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("error_class", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("missing_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("retry_safe", sa.Boolean(), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "created_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pipeline_id", "entity", "external_id"),
    )
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_records_pipeline_id"), ["pipeline_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_records_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_records_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "tenants",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "created_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("pipeline_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("source_version", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sync_records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_idempotency_key"), ["idempotency_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_events_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("pipeline_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("source_snapshot", sa.JSON(), nullable=False),
        sa.Column("target_snapshot", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column(
            "created_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "resolved_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sync_records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflicts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_conflicts_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "connections",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("organization_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column(
            "created_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "name"),
    )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connections_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "sync_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("to_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "started_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "finished_at", ledgerbridge.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("error", sa.JSON(), nullable=False),
        sa.Column("request_summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sync_records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sync_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_attempts_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_attempts_record_id"))

    op.drop_table("sync_attempts")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connections_tenant_id"))

    op.drop_table("connections")
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflicts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_conflicts_status"))

    op.drop_table("conflicts")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_source_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_record_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_idempotency_key"))

    op.drop_table("audit_events")
    op.drop_table("tenants")
    with op.batch_alter_table("sync_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_records_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_sync_records_state"))
        batch_op.drop_index(batch_op.f("ix_sync_records_pipeline_id"))

    op.drop_table("sync_records")
    op.drop_table("leases")
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_events_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_events_status"))

    op.drop_table("inbox_events")
    with op.batch_alter_table("cross_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cross_references_tenant_id"))

    op.drop_table("cross_references")
    op.drop_table("checkpoints")
