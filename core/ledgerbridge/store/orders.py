"""Finding a source order by what people call it: its number or its source id.

A merchant and an accountant know an order by the number the shop shows ("#1003" on
Shopify, "1003" on WooCommerce); the engine keys it by the source's id ("5000000003").
``find_orders`` takes either -- the number as the source shows it, or with or
without its '#' -- and answers from the indexes on ``sync_records.number`` and
``sync_records.external_id`` (migration 0006).  The CLI (``audit``, ``replay``) and the
console share it, so one order is found the same way everywhere.  The same number in two
pipelines or tenants finds both: the caller narrows by tenant or pipeline, or lists them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_
from sqlmodel import col, select

from .models import AuditEvent, SyncRecord
from .store import Store

ORDER = "order"


def number_forms(query: str) -> list[str]:
    """The spellings of one order number: as typed, without its '#' and with one."""
    typed = query.strip()
    bare = typed.lstrip("#").strip()
    return list(dict.fromkeys(f for f in (typed, bare, f"#{bare}") if f and f != "#"))


def find_orders(
    store: Store,
    query: str,
    *,
    tenant: str | None = None,
    pipelines: Sequence[str] | None = None,
    record_ids: bool = False,
) -> list[SyncRecord]:
    """The order records ``query`` names, oldest first; several mean it is ambiguous.

    ``query`` is an order number or a source id, spelled exactly as stored ("#1003" finds
    Shopify's "#1003"); when nothing is spelled so, any of ``number_forms`` ("1003" finds
    "#1003" too).  With ``record_ids``, a bare integer also names the record of that id
    (the ``id`` column of ``failures``)."""
    typed = query.strip()
    bare = typed.lstrip("#").strip()
    if not bare:
        return []
    exact = [col(SyncRecord.number) == typed, col(SyncRecord.external_id) == typed]
    if record_ids and not typed.startswith("#") and typed.isdigit() and len(typed) < 19:
        exact.append(col(SyncRecord.id) == int(typed))
    loose = [
        col(SyncRecord.number).in_(number_forms(typed)),
        col(SyncRecord.external_id).in_(list(dict.fromkeys((typed, bare)))),
    ]
    with store.session() as s:
        for wanted in (exact, loose):
            stmt = select(SyncRecord).where(SyncRecord.entity == ORDER).where(or_(*wanted))
            if tenant is not None:
                stmt = stmt.where(SyncRecord.tenant_id == tenant)
            if pipelines is not None:
                stmt = stmt.where(col(SyncRecord.pipeline_id).in_(list(pipelines)))
            found = list(s.exec(stmt.order_by(col(SyncRecord.id))))
            if found:
                return found
    return []


def order_label(record: SyncRecord) -> str:
    """How a record is shown: the order number with the source id beside it
    ("#1003 (id 5000000003)"), the id alone when the number is unknown or the same."""
    number, external_id = record.number, record.external_id
    if not number or number.lstrip("#") == external_id:
        return number or external_id
    return f"{number} (id {external_id})"


def order_events(store: Store, record: SyncRecord) -> list[AuditEvent]:
    """Every write made for one order record, oldest first: the events linked to the record,
    and those of its pipeline naming its source id (both indexed)."""
    with store.session() as s:
        stmt = (
            select(AuditEvent)
            .where(
                or_(
                    col(AuditEvent.record_id) == record.id,
                    and_(
                        col(AuditEvent.source_id) == record.external_id,
                        col(AuditEvent.pipeline_id) == record.pipeline_id,
                    ),
                )
            )
            .order_by(col(AuditEvent.id))
        )
        return list(s.exec(stmt))


def records_by_id(store: Store, record_ids: Sequence[int]) -> dict[int, SyncRecord]:
    """Some records by id (lists that hold record ids, e.g. conflicts, show their orders)."""
    wanted = list(dict.fromkeys(record_ids))
    if not wanted:
        return {}
    with store.session() as s:
        stmt = select(SyncRecord).where(col(SyncRecord.id).in_(wanted))
        return {r.id: r for r in s.exec(stmt) if r.id is not None}


__all__ = ["find_orders", "number_forms", "order_events", "order_label", "records_by_id"]
