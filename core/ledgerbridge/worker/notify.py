"""``ledgerbridge serve`` in the distributed mode: a stored webhook event wakes its pipelines.

The event is in the inbox (the store) before the receiver answers; the message
only says "look now".  If the broker is down the message is lost and nothing
else is: the sweep queues pipelines with waiting events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..config import LoadedConfig
from .settings import WorkerSettings, configured

log = logging.getLogger(__name__)


def notifier(loaded: LoadedConfig) -> Callable[[str], None] | None:
    """A function that queues ``ledgerbridge.event(connection)``, or None (embedded mode)."""
    if not configured(loaded):
        return None
    from .app import configure

    app = configure(WorkerSettings.of(loaded))

    def notify(connection_id: str) -> None:
        try:
            app.send_task("ledgerbridge.event", args=[connection_id], retry=False)
        except Exception as exc:  # the broker is down: the sweep finds the event later
            log.warning("could not queue the webhook event of %s: %r", connection_id, exc)

    return notify
