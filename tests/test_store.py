"""The store round-trips every table, on SQLite and (in CI) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import SQLModel, select

from ledgerbridge.errors import SecretsError
from ledgerbridge.store import (
    AuditEvent,
    ConflictRecord,
    CrossReference,
    InboxEvent,
    RecordState,
    SecretBox,
    Store,
    SyncAttempt,
    SyncRecord,
)


def test_migrations_create_exactly_the_model_schema(store: Store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_connection_secrets_are_encrypted_at_rest(store: Store):
    store.upsert_tenant("acme", "Acme")
    store.upsert_connection(
        "acme",
        "books",
        platform="zohobooks",
        kind="target",
        settings={"data_center": "eu"},
        secrets={"refresh_token": "1000.super-secret-token"},
        organization_id="8754310000010306009",
    )
    with store.engine.connect() as conn:
        raw = conn.execute(text("SELECT secrets, settings, organization_id FROM connections")).one()
    assert "super-secret" not in raw[0] and raw[0].startswith("gAAAA")
    assert store.connection_secrets("acme/books") == {"refresh_token": "1000.super-secret-token"}
    store.update_connection_secrets("acme/books", access_token="at-1")
    assert store.connection_secrets("acme/books")["access_token"] == "at-1"
    # A 19-digit Zoho id survives as a string.
    assert store.get_connection("acme/books").organization_id == "8754310000010306009"


def test_secrets_need_the_right_key(store: Store):
    store.upsert_tenant("acme")
    store.upsert_connection(
        "acme", "shop", platform="shopify", kind="source", secrets={"access_token": "x"}
    )
    other = Store("sqlite://", secrets=SecretBox([Fernet.generate_key().decode()]))
    other.engine = store.engine  # same database, different key
    with pytest.raises(SecretsError, match="cannot be decrypted"):
        other.connection_secrets("acme/shop")


def test_checkpoints_round_trip_and_move(store: Store):
    assert store.get_checkpoint("p1", "order") is None
    store.set_checkpoint("p1", "order", "2026-01-01T00:00:00Z")
    store.set_checkpoint("p1", "order", "2026-01-02T00:00:00Z")
    store.set_checkpoint("p1", "customer", "c1")
    assert store.get_checkpoint("p1", "order") == "2026-01-02T00:00:00Z"
    assert store.get_checkpoint("p1", "customer") == "c1"


def test_cross_references_bind_one_row_per_source_record_and_kind(store: Store):
    ref = dict(
        tenant_id="acme",
        source_connection_id="acme/shop",
        entity="order",
        external_id="450789469",
        target_connection_id="acme/books",
    )
    store.put_xref(CrossReference(**ref, target_kind="invoice", target_id="8754310000010306009"))
    store.put_xref(CrossReference(**ref, target_kind="invoice", target_id="8754310000010306010"))
    store.put_xref(CrossReference(**ref, target_kind="customerpayment", target_id="99"))
    found = store.get_xref("acme", "acme/shop", "order", "450789469", "acme/books", "invoice")
    assert found is not None and found.target_id == "8754310000010306010"
    with store.session() as s:
        assert len(list(s.exec(select(CrossReference)))) == 2


def test_sync_records_attempts_conflicts_and_audit_round_trip(store: Store):
    later = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    with store.session() as s:
        rec = SyncRecord(
            tenant_id="acme",
            pipeline_id="p1",
            entity="order",
            external_id="1001",
            source_version="v2",
            state=RecordState.NEEDS_MAPPING,
            missing_key="tax:VAT 7%",
            next_attempt_at=later,
        )
        s.add(rec)
        s.flush()
        s.add(
            SyncAttempt(
                record_id=rec.id,
                from_state="pending",
                to_state="needs_mapping",
                error={"error_class": "NeedsMapping", "missing": "tax:VAT 7%"},
            )
        )
        s.add(
            ConflictRecord(
                tenant_id="acme",
                pipeline_id="p1",
                record_id=rec.id,
                entity="order",
                external_id="1001",
                fields=["notes"],
                source_snapshot={"notes": "a"},
                target_snapshot={"notes": "b"},
            )
        )
        s.add(
            AuditEvent(
                tenant_id="acme",
                pipeline_id="p1",
                record_id=rec.id,
                source_id="1001",
                idempotency_key="acme:p1:order:1001:create_invoice:v2",
                operation="create_invoice",
                target_id="8754310000010306009",
                outcome="ok",
                duration_ms=12,
                details={"total": "25.30"},
            )
        )
    with store.session() as s:
        rec = s.exec(select(SyncRecord)).one()
        assert rec.state == "needs_mapping" and rec.missing_key == "tax:VAT 7%"
        assert rec.next_attempt_at == later and rec.next_attempt_at.tzinfo is not None
        attempt = s.exec(select(SyncAttempt)).one()
        assert attempt.error["missing"] == "tax:VAT 7%"
        conflict = s.exec(select(ConflictRecord)).one()
        assert conflict.fields == ["notes"] and conflict.status == "open"
        audit = s.exec(select(AuditEvent)).one()
        assert audit.target_id == "8754310000010306009" and audit.details == {"total": "25.30"}


def test_a_record_is_unique_per_pipeline_entity_and_id(store: Store):
    from sqlalchemy.exc import IntegrityError

    with store.session() as s:
        s.add(SyncRecord(tenant_id="acme", pipeline_id="p1", entity="order", external_id="1"))
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(SyncRecord(tenant_id="acme", pipeline_id="p1", entity="order", external_id="1"))


def test_inbox_deduplicates_deliveries_per_connection(store: Store):
    def event(delivery: str, conn: str = "acme/shop") -> InboxEvent:
        return InboxEvent(
            tenant_id="acme",
            connection_id=conn,
            delivery_id=delivery,
            topic="orders/updated",
            entity="order",
            external_id="1001",
        )

    assert store.add_inbox_event(event("d1")) is True
    assert store.add_inbox_event(event("d1")) is False
    assert store.add_inbox_event(event("d1", "acme/other")) is True
    assert [e.delivery_id for e in store.pending_inbox("acme/shop")] == ["d1"]


def test_leases_exclude_other_holders_until_they_expire(store: Store):
    assert store.acquire_lease("pipeline:p1", "worker-a", timedelta(seconds=60))
    assert not store.acquire_lease("pipeline:p1", "worker-b", timedelta(seconds=60))
    assert store.acquire_lease("pipeline:p1", "worker-a", timedelta(seconds=60))  # renew
    assert store.lease_holder("pipeline:p1")[0] == "worker-a"
    store.release_lease("pipeline:p1", "worker-b")  # not the holder: no effect
    assert not store.acquire_lease("pipeline:p1", "worker-b", timedelta(seconds=60))
    store.release_lease("pipeline:p1", "worker-a")
    assert store.acquire_lease("pipeline:p1", "worker-b", timedelta(seconds=60))
    # An expired lease can be taken over (a crashed holder does not block forever).
    assert store.acquire_lease("token:zoho", "dead", timedelta(seconds=-1))
    assert store.acquire_lease("token:zoho", "alive", timedelta(seconds=60))


def test_naive_datetimes_are_refused(store: Store):
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="naive"), store.session() as s:
        s.add(
            SyncRecord(
                tenant_id="a",
                pipeline_id="p",
                entity="order",
                external_id="9",
                next_attempt_at=datetime(2030, 1, 1),
            )
        )


def test_default_url_is_the_local_sqlite_file(monkeypatch: pytest.MonkeyPatch):
    from ledgerbridge.store import resolve_url

    monkeypatch.delenv("LEDGERBRIDGE_DATABASE_URL", raising=False)
    assert resolve_url() == "sqlite:///ledgerbridge.db"
    monkeypatch.setenv("LEDGERBRIDGE_DATABASE_URL", "postgresql://db/x")
    assert resolve_url() == "postgresql://db/x"
    assert resolve_url("sqlite:///other.db") == "sqlite:///other.db"


def test_processes_migrating_a_fresh_database_at_once_all_succeed(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = f"from ledgerbridge.store import Store; Store({url!r}).migrate()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE) for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    with Store(url).engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0010"
