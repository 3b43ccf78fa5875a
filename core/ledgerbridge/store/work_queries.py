"""What work is waiting, per pipeline and per source connection: the queue's view of the store.

The distributed sweep asks these to decide whom to wake, and ``ledgerbridge status``
to show each pipeline's depth. Counts only, in the database (``GROUP BY``, ``COUNT``):
a backlog of a hundred thousand events costs one row per connection, not a list.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from .models import InboxEvent, RecordState, SyncRecord
from .store import Store
from .types import utcnow


def pending_events(store: Store) -> dict[str, int]:
    """Webhook events not yet processed, per source connection (``tenant/connection``)."""
    with store.session() as s:
        stmt = (
            select(InboxEvent.connection_id, func.count())
            .where(InboxEvent.status == "new")
            .group_by(col(InboxEvent.connection_id))
        )
        return {str(connection): int(n) for connection, n in s.exec(stmt)}


def events_waiting(store: Store, connection_id: str) -> int:
    """Webhook events of one source connection not yet processed (a share just ended:
    did one arrive while it ran?)."""
    with store.session() as s:
        stmt = select(func.count()).where(
            InboxEvent.connection_id == connection_id, InboxEvent.status == "new"
        )
        return int(s.exec(stmt).one())


def retries_due(store: Store, pipeline_id: str) -> int:
    """Records of the pipeline waiting to be retried whose retry is due now."""
    with store.session() as s:
        stmt = select(func.count()).where(
            SyncRecord.pipeline_id == pipeline_id,
            SyncRecord.state == RecordState.RETRYING.value,
            col(SyncRecord.next_attempt_at) <= utcnow(),
        )
        return int(s.exec(stmt).one())


def retrying(store: Store, pipeline_id: str) -> int:
    """Records of the pipeline waiting to be retried, due now or later."""
    with store.session() as s:
        stmt = select(func.count()).where(
            SyncRecord.pipeline_id == pipeline_id,
            SyncRecord.state == RecordState.RETRYING.value,
        )
        return int(s.exec(stmt).one())
