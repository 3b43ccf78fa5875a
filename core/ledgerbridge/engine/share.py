"""A share: the bounded unit of a pipeline's work that a distributed worker runs.

Under the pipeline's lease (its holder is the task, not the process): the
pipeline's waiting webhook events first -- a merchant's new order does not queue
behind its own backlog -- then ``PipelineRunner.run`` limited to ``max_pages``
(due retries and closed summary days included).  A heartbeat renews the lease
every third of its TTL, so a short lease is safe for a live worker and lapses soon
after a dead one; a lease lost to another holder stops the share between records.
Everything a share does is recorded in the store, so running it twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.to_thread

from ..store import Store
from .lease import PipelineLease
from .runner import PipelineRunner, RecordOutcome, RunReport

EVENTS_PER_SHARE = 100


async def run_share(
    store: Store,
    runner: PipelineRunner,
    source_connection: str,
    *,
    max_pages: int | None,
    should_stop: Callable[[], bool],
    mark_processed: Callable[[int | None], None],
) -> RunReport:
    lost = {"lease": False}
    runner.stopping_when(lambda: lost["lease"] or should_stop())
    async with runner.lease() as lease, anyio.create_task_group() as group:
        group.start_soon(_heartbeat, lease, lost)
        try:
            events = await anyio.to_thread.run_sync(
                lambda: store.pending_inbox(source_connection, limit=EVENTS_PER_SHARE)
            )
            outcomes: list[RecordOutcome] = []
            for event in events:
                if runner.should_stop():
                    break
                await runner.check_target()
                outcomes.append(await runner.handle_event(event))
                # A webhook is a hint: polling reads the same change by its checkpoint
                # for any other pipeline of the connection.
                await anyio.to_thread.run_sync(mark_processed, event.id)
            report = await runner.run(max_pages=max_pages)
            for outcome in outcomes:
                report.add(outcome)
            if len(events) == EVENTS_PER_SHARE or runner.should_stop():
                report.more = True
        finally:
            group.cancel_scope.cancel()
    return report


async def _heartbeat(lease: PipelineLease, lost: dict[str, bool]) -> None:
    """Renew the share's lease every third of its TTL; a lease lost stops the share."""
    while True:
        await anyio.sleep(lease.ttl.total_seconds() / 3)
        if not await lease.renew():
            lost["lease"] = True
            return
