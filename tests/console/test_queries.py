"""The console's store queries on SQLite and (in CI) PostgreSQL: keyset pages, exact
search, scoping to the caller's pipelines, failure groups, binding prefixes, the audit
export's date range and batches, users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledgerbridge.store import AuditEvent, CrossReference, Store, SyncAttempt, SyncRecord
from ledgerbridge.store import console_queries as q


def _records(store: Store) -> None:
    rows = []
    for n in range(1, 8):
        rows.append(SyncRecord(tenant_id="a", pipeline_id="a-orders", entity="order",
                               external_id=str(1000 + n), state="synced"))  # fmt: skip
    rows.append(SyncRecord(tenant_id="a", pipeline_id="a-orders", entity="order",
                           external_id="2001", state="needs_mapping",
                           error_class="NeedsMapping", missing_key="tax:GST"))  # fmt: skip
    rows.append(SyncRecord(tenant_id="a", pipeline_id="a-orders", entity="order",
                           external_id="2002", state="needs_mapping",
                           error_class="NeedsMapping", missing_key="tax:GST"))  # fmt: skip
    rows.append(SyncRecord(tenant_id="a", pipeline_id="a-orders", entity="order",
                           external_id="2003", state="failed", error_class="ValidationFailed",
                           error_code="1001"))  # fmt: skip
    rows.append(SyncRecord(tenant_id="b", pipeline_id="b-orders", entity="order",
                           external_id="2001", state="needs_mapping",
                           error_class="NeedsMapping", missing_key="tax:GST"))  # fmt: skip
    with store.session() as s:
        for row in rows:
            s.add(row)


def test_pages_are_keyset_and_scoped_to_the_callers_pipelines(store: Store) -> None:
    _records(store)
    first = q.records_page(store, ["a-orders"], limit=4)
    assert [r.external_id for r in first] == ["2003", "2002", "2001", "1007"]
    second = q.records_page(store, ["a-orders"], limit=4, before_id=first[-1].id)
    assert [r.external_id for r in second] == ["1006", "1005", "1004", "1003"]
    assert [r.tenant_id for r in q.records_page(store, ["a-orders"], search="2001")] == ["a"]
    assert [r.tenant_id for r in q.records_page(store, ["b-orders"], search="2001")] == ["b"]
    assert q.records_page(store, []) == []
    assert len(q.records_page(store, ["a-orders"], state="needs_mapping")) == 2
    b_record = q.records_page(store, ["b-orders"])[0]
    assert b_record.id is not None
    assert q.record_in(store, b_record.id, ["a-orders"]) is None
    assert q.record_in(store, b_record.id, ["b-orders"]) is not None
    assert q.state_counts(store, "a-orders") == {"synced": 7, "needs_mapping": 2, "failed": 1}
    assert q.last_activity(store, "a-orders") is None  # no record has changed state yet
    when = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    with store.session() as s:
        for record, at in ((first[1], when), (first[2], when - timedelta(hours=1))):
            assert record.id is not None
            s.add(SyncAttempt(record_id=record.id, to_state="synced", started_at=at,
                              finished_at=at))  # fmt: skip
        s.add(SyncAttempt(record_id=b_record.id, to_state="synced", started_at=when,
                          finished_at=when + timedelta(hours=5)))  # fmt: skip
    assert q.last_activity(store, "a-orders") == when - timedelta(hours=1)  # the newest row
    assert q.last_activity(store, "b-orders") == when + timedelta(hours=5)
    assert q.last_activity(store, "nothing") is None


def test_failures_group_by_cause_within_the_callers_pipelines(store: Store) -> None:
    _records(store)
    groups = q.failure_groups(store, ["a-orders"])
    assert [(g.state, g.error_class, g.key, g.count) for g in groups] == [
        ("needs_mapping", "NeedsMapping", "tax:GST", 2),
        ("failed", "ValidationFailed", "1001", 1),
    ]
    members = q.group_members(store, ["a-orders"], "needs_mapping", "NeedsMapping", "tax:GST")
    assert [(r.tenant_id, r.external_id) for r in members] == [("a", "2001"), ("a", "2002")]
    assert q.group_members(store, ["a-orders"], "failed", "ValidationFailed", None) == []
    assert len(q.failure_groups(store, ["a-orders", "b-orders"])) == 2
    assert q.failure_groups(store, ["b-orders"])[0].count == 1


def test_bindings_of_an_order_include_its_parts_but_not_a_longer_id(store: Store) -> None:
    def ref(entity: str, external_id: str, kind: str, target: str) -> CrossReference:
        return CrossReference(tenant_id="a", source_connection_id="a/shop", entity=entity,
                              external_id=external_id, target_connection_id="a/books",
                              target_kind=kind, target_id=target)  # fmt: skip

    for row in (
        ref("order", "1005", "invoice", "1"),
        ref("payment", "1005:paid", "customer_payment", "2"),
        ref("order", "10050", "invoice", "3"),
        ref("payment", "10050:paid", "customer_payment", "4"),
    ):
        store.put_xref(row)
    found = q.bindings_of(store, "a", "a/shop", "order", "1005")
    assert sorted(b.target_id for b in found) == ["1", "2"]


def test_the_audit_export_keeps_to_the_tenant_and_the_range_in_batches(store: Store) -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with store.session() as s:
        for n in range(7):
            for tenant in ("a", "b"):
                s.add(AuditEvent(tenant_id=tenant, pipeline_id=f"{tenant}-orders",
                                 source_id=str(n), idempotency_key=f"{tenant}:{n}",
                                 operation="create_document", outcome="ok",
                                 at=start + timedelta(days=n)))  # fmt: skip
    batches = list(
        q.audit_export(store, "a", start + timedelta(days=1), start + timedelta(days=5), batch=2)
    )
    assert [len(b) for b in batches] == [2, 2]
    assert [e.source_id for b in batches for e in b] == ["1", "2", "3", "4"]
    assert {e.tenant_id for b in batches for e in b} == {"a"}


def test_users_are_stored_with_role_and_tenants(store: Store) -> None:
    q.put_user(store, "olga", password_hash="$argon2id$x", role="viewer", tenants=["a"])
    q.put_user(store, "olga", password_hash="$argon2id$y", role="operator", tenants=["a", "b"])
    user = q.get_user(store, "olga")
    assert user is not None and (user.role, user.tenants) == ("operator", ["a", "b"])
    assert user.password_hash == "$argon2id$y"
    assert [u.username for u in q.list_users(store)] == ["olga"]
    assert q.remove_user(store, "olga") and not q.remove_user(store, "olga")


def test_search_by_number_dates_and_the_trend(store: Store) -> None:
    """The document-number expression, the first-seen range with its keyset cursor and the
    7-day trend, on both dialects (the number's index expression is spelled per dialect)."""
    from ledgerbridge.store import record_counts
    from ledgerbridge.store.console_overview import states_and_trend, writes_recorded

    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    with store.session() as s:
        for n in range(6):  # first seen a day apart, last changed likewise
            at = now - timedelta(days=n)
            s.add(SyncRecord(tenant_id="a", pipeline_id="a-orders", entity="order",
                             external_id=str(3000 + n), state="synced" if n % 2 else "failed",
                             created_at=at, updated_at=at))  # fmt: skip
        s.add(SyncRecord(tenant_id="b", pipeline_id="b-orders", entity="order",
                         external_id="9000", state="synced", created_at=now, updated_at=now))  # fmt: skip
    ids = {r.external_id: r.id for r in q.records_page(store, ["a-orders", "b-orders"])}
    with store.session() as s:
        for ext, number in (("3001", "INV-000123"), ("9000", "INV-000123")):
            s.add(AuditEvent(tenant_id="a" if ext != "9000" else "b",
                             pipeline_id="a-orders" if ext != "9000" else "b-orders",
                             record_id=ids[ext], source_id=ext, idempotency_key=f"k{ext}",
                             operation="create_document", outcome="ok", at=now,
                             details={"number": number}))  # fmt: skip
        s.add(AuditEvent(tenant_id="a", pipeline_id="a-orders", record_id=ids["3002"],
                         source_id="3002", idempotency_key="op", operation="operator_replay",
                         outcome="synced", at=now, details={"user": "x"}))  # fmt: skip
    assert [r.external_id for r in q.records_by_number(store, ["a-orders"], "INV-000123")] == [
        "3001"
    ]
    assert q.records_by_number(store, ["a-orders"], "INV-000124") == []
    since = datetime(2026, 12, 1, tzinfo=UTC)
    until = datetime(2026, 12, 4, tzinfo=UTC)
    ranged = q.records_page(store, ["a-orders"], since=since, until=until)
    assert [r.external_id for r in ranged] == ["3001", "3002", "3003"]
    first = q.records_page(store, ["a-orders"], since=since, limit=2)
    assert [r.external_id for r in first] == ["3000", "3001"]
    rest = q.records_page(store, ["a-orders"], since=since, before_id=first[-1].id, limit=2)
    assert [r.external_id for r in rest] == ["3002", "3003"]
    record_counts.rebuild(store)  # records written here, not by the engine: count them
    counts, trend = states_and_trend(store, "a-orders", ["synced", "failed", "skipped"],
                                     now.date())  # fmt: skip
    assert counts == {"synced": 3, "failed": 3}
    assert trend["synced"] == [0, 1, 0, 1, 0, 1, 0]  # days 5, 3, 1 ago; oldest first
    assert trend["failed"] == [0, 0, 1, 0, 1, 0, 1]  # days 4, 2, 0 ago
    assert writes_recorded(store, "a", ["a-orders"], now + timedelta(seconds=30)) == (1, 1)
    assert writes_recorded(store, "a", ["a-orders"], now + timedelta(minutes=2)) == (0, 1)


def test_an_older_page_walks_the_pipelines_own_index(store: Store) -> None:
    """A page after a cursor reads through the pipeline's index: on SQLite the statement
    names it (``INDEXED BY``) and the query plan uses it, also once ANALYZE has seen one
    pipeline hold most records (when SQLite alone would walk the table by id); PostgreSQL
    gets no hint and the same rows."""
    from typing import Any

    from sqlalchemy import event

    from ledgerbridge.store.console_models import RECORDS_BY_STATE
    from ledgerbridge.store.types import utcnow

    now = utcnow()
    with store.engine.begin() as conn:  # one big pipeline, one small
        conn.execute(
            SyncRecord.__table__.insert(),  # type: ignore[attr-defined]
            [{"tenant_id": "a", "pipeline_id": "big" if n % 50 else "small",
              "entity": "order", "external_id": str(n), "state": "synced",
              "retry_safe": True, "attempt_count": 0, "created_at": now, "updated_at": now}
             for n in range(1, 2001)],
        )  # fmt: skip
        conn.exec_driver_sql("ANALYZE")
    sqlite = store.engine.dialect.name == "sqlite"
    plans: dict[str, list[str]] = {}

    def before(conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
        if sqlite and "FROM sync_records" in sql and " < " in sql:
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plans[sql] = [row[-1] for row in rows]
        elif "FROM sync_records" in sql:
            plans[sql] = []

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        older = q.records_page(store, ["small"], before_id=1001, limit=3)
        by_state = q.records_page(store, ["small"], state="synced", before_id=1001, limit=3)
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
    assert [r.external_id for r in older] == ["1000", "950", "900"]
    assert [r.external_id for r in by_state] == ["1000", "950", "900"]
    hinted = [sql for sql in plans if "INDEXED BY" in sql]
    if not sqlite:
        assert plans and not hinted  # the hint is SQLite's only
        return
    assert len(hinted) == 2, list(plans)
    used = [" ".join(steps) for steps in plans.values()]
    assert any("INDEX ix_sync_records_pipeline_id " in u for u in used), used
    assert any(f"INDEX {RECORDS_BY_STATE.name} " in u for u in used), used
    assert not any(u.startswith("SCAN sync_records") for u in used), used
