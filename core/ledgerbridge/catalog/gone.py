"""Variants gone from a side, and the edits no change feed shows: the periodic full read.

Why: no platform here gives a catalog a deletion feed, and some storefront edits do not move
the product's modified time, so an incremental read never returns them (a Shopify stock
change, a WooCommerce variation, an API2Cart child; docs/catalog.md).  So every
``full_read_every`` (a day by default; the first run is one) a side is read from the start
instead of from its checkpoint.  What changed is diffed as usual -- an unchanged variant
plans nothing and writes nothing -- and a variant stored from an earlier read that the full
read did not return is gone from that side.

A gone variant is forgotten: its stored row, its pair's binding and field state.  So a
product re-created with the same SKU is matched afresh instead of written to a dead id, and
no SKU stays ambiguous because of it.  Its record moves to ``skipped`` with the reason, and
an audit event ``catalog_gone`` names the partner that stays.  Nothing is deleted or
deactivated on the other side: what a deletion means there is the merchant's call.

A full read that could not map some record (a page's ``unreadable``) proves nothing gone
on that side, and a dry run forgets nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..engine.batch import Batch, Transition
from ..engine.journal import off_loop
from ..store import RecordState
from ..store.types import utcnow
from .state import ENTITY

if TYPE_CHECKING:
    from .runner import CatalogRunner


def full_read_key(side: str) -> str:
    """The checkpoint entity holding when ``side`` was last read in full (no longer than the
    side's own ``catalog:<side>``: the column holds 50 characters)."""
    return f"full:{side}"


def full_read_due(last: str | None, now: datetime, every: timedelta) -> bool:
    if not last:
        return True
    try:
        return now - datetime.fromisoformat(last) >= every
    except ValueError:  # not a time we wrote: read in full, and write one
        return True


async def forget_gone(runner: CatalogRunner, side: str, seen: set[str]) -> int:
    """Forget the variants of ``side`` a complete full read did not return; how many."""
    known = await off_loop(runner.state.known, side)
    gone = sorted(known - seen)
    if not gone:
        return 0
    a_conn, b_conn = runner._conn(runner.a), runner._conn(runner.b)
    if side == runner.a:
        pairs = await off_loop(
            lambda: runner.state.bindings(runner.tenant.id, a_conn, b_conn, a_ids=gone)
        )
        partners = pairs
    else:
        found = await off_loop(
            lambda: runner.state.bindings(runner.tenant.id, a_conn, b_conn, b_ids=gone)
        )
        pairs = found
        partners = {b: a for a, b in found.items()}
    other = runner.b if side == runner.a else runner.a
    keys = [f"{side}:{i}" for i in gone]
    records = await off_loop(runner.journal.open_records, ENTITY, keys)
    now = utcnow()
    batch = Batch()
    for vid, key in zip(gone, keys, strict=True):
        partner = partners.get(vid)
        reason = f"gone from {side}: not in a full read of {runner.pipe.id}" + (
            f"; its binding to {other} {partner} is removed" if partner else ""
        )
        batch.transitions.append(Transition(records[key], RecordState.SKIPPED, now, reason=reason))
        batch.audits.append(
            runner.journal.audit(
                source_id=key,
                idempotency_key=f"catalog:{runner.pipe.id}:{key}:gone",
                operation="catalog_gone",
                outcome="done",
                record_id=records[key].id,
                target_id=partner,
                details={"side": side, "partner": partner, "why": "gone"},
            )
        )
    await off_loop(runner.journal.commit, batch)  # first: a crash after it logs twice at worst
    await off_loop(runner.state.forget, side, gone, pairs, (runner.tenant.id, a_conn, b_conn))
    return len(gone)
