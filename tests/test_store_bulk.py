"""``BulkStatement`` writes exactly what SQLAlchemy's own executemany writes (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, select

from ledgerbridge.store import AuditEvent, Store, WriteIntent
from ledgerbridge.store.bulk import BulkStatement

AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
INTENTS = WriteIntent.__table__  # type: ignore[attr-defined]


def _audit_rows(prefix: str, at: datetime) -> list[dict[str, Any]]:
    later = at + timedelta(seconds=1)
    return [
        {
            "tenant_id": "t", "pipeline_id": "p", "record_id": None,
            "source_id": f"{prefix}{i}", "source_version": None if i % 2 else "v1",
            "idempotency_key": f"{prefix}-key-{i}", "operation": "create_document",
            "target_id": "4815162342000000001" if i == 0 else None, "outcome": "ok",
            "duration_ms": i, "attempt": 1,
            # the batch's shared timestamp, then one of its own; an empty object, then details
            "at": at if i < 3 else later,
            "details": {} if i % 2 else {"reason": f"r{i}", "amount": "12.30", "nested": [i]},
        }
        for i in range(5)
    ]  # fmt: skip


def _read(store: Store, prefix: str) -> list[tuple[Any, ...]]:
    columns = [c for c in AUDIT.c if c.name != "id"]
    stmt = select(*columns).where(AUDIT.c.source_id.like(f"{prefix}%")).order_by(AUDIT.c.id)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(stmt)]


def test_rows_read_back_as_sqlalchemy_wrote_them(store: Store) -> None:
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    with store.engine.begin() as conn:
        conn.execute(AUDIT.insert(), _audit_rows("core", at))
        BulkStatement(AUDIT.insert()).execute(conn, _audit_rows("bulk", at))
    by_core, by_bulk = _read(store, "core"), _read(store, "bulk")
    assert len(by_bulk) == 5
    # the same values, column by column, apart from the ids that name the rows
    renamed = [
        tuple(v.replace("core", "bulk") if isinstance(v, str) else v for v in row)
        for row in by_core
    ]
    assert by_bulk == renamed
    assert by_bulk[0][-2] == at and by_bulk[4][-2] == at + timedelta(seconds=1)
    assert by_bulk[1][-1] == {} and by_bulk[2][-1]["nested"] == [2]
    assert by_bulk[0][7] == "4815162342000000001"  # a 19-digit id stays a string


def test_upsert_and_update_with_fixed_values(store: Store) -> None:
    """Values the statement carries (a literal in SET or WHERE) need no column in the rows."""
    from ledgerbridge.store.bulk import upsert_for as _upsert_for

    now = datetime(2026, 3, 1, tzinfo=UTC)
    base = {"tenant_id": "t", "pipeline_id": "p", "record_id": None, "created_at": now}
    rows = [
        {**base, "key": k, "scope": k, "operation": "create_document", "status": s}
        for k, s in (("a", "pending"), ("b", "done"))
    ]
    upsert = _upsert_for(store.engine.dialect.name, INTENTS)
    again = BulkStatement(
        upsert.on_conflict_do_update(
            index_elements=["key"],
            set_={"status": "pending", "completed_at": None},
            where=INTENTS.c.status != "done",
        )
    )
    complete = BulkStatement(
        INTENTS.update()
        .where(INTENTS.c.key == bindparam("k"))
        .values(status=bindparam("s"), completed_at=bindparam("now"))
    )
    with store.engine.begin() as conn:
        again.execute(conn, rows)
        complete.execute(conn, [{"k": "a", "s": "failed", "now": now}])
        again.execute(conn, [{**r, "status": "new"} for r in rows])  # a: back to pending; b: kept
        complete.execute(conn, [])  # nothing to do, no statement
    with store.engine.connect() as conn:
        got = dict(conn.execute(select(INTENTS.c.key, INTENTS.c.status)).all())
    assert got == {"a": "pending", "b": "done"}


def test_a_missing_parameter_names_itself(store: Store) -> None:
    update = BulkStatement(
        INTENTS.update().where(INTENTS.c.key == bindparam("k")).values(status=bindparam("s"))
    )
    with store.engine.begin() as conn, pytest.raises(ValueError, match=r"\['s'\]"):
        update.execute(conn, [{"k": "a"}])


def test_a_column_with_a_default_must_be_given(store: Store) -> None:
    """SQLAlchemy fills a column's Python default per row; a BulkStatement refuses rows
    without it rather than write NULL (``attempt`` and ``at`` have defaults)."""
    row = _audit_rows("x", datetime(2026, 3, 1, tzinfo=UTC))[0]
    del row["attempt"], row["at"]
    with store.engine.begin() as conn, pytest.raises(ValueError, match=r"\['attempt', 'at'\]"):
        BulkStatement(AUDIT.insert()).execute(conn, [row])


def test_sqlalchemy_is_pinned_to_the_range_bulk_statements_are_written_for():
    """``BulkStatement`` reads compiler attributes a minor release may change: the dependency
    is pinned to the tested range, and the installed release is inside it."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from ledgerbridge.store.bulk import SQLALCHEMY_RANGE

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    [declared] = [
        Requirement(d)
        for d in pyproject["project"]["dependencies"]
        if Requirement(d).name.lower() == "sqlalchemy"
    ]
    assert declared.specifier == SpecifierSet(SQLALCHEMY_RANGE)
    assert any(s.operator == "<" for s in declared.specifier), "no upper bound"
    assert version("sqlalchemy") in declared.specifier
