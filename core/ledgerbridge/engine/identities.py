"""The organisation each target connection reaches, as this engine last asked it.

Why: a distributed worker makes a new ``PipelineRunner`` for every share, and each asked
the target who it is before its first record (Zoho Books: ``GET /organizations``). Under
a stream of webhooks that was a third of an organisation's calls (one per share, beside
the read and the write of the edit), against its 100 calls a minute. The engine checked
the identity when it started (``Engine.verify_targets``); runners now reuse an answer
younger than ``TTL`` instead of asking again.

Dead credentials are still found: the first call of a share fails and halts it
(``PipelineRunner._halt``), which forgets the connection's answer so the next share asks.
A "needs reconnecting" mark is cleared only by an answer asked for, never a remembered one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..contracts.target import TargetIdentity

TTL = 60.0  # seconds a remembered identity stands in for asking


class Identities:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self._known: dict[str, tuple[TargetIdentity, float]] = {}

    def get(self, connection_id: str) -> TargetIdentity | None:
        known = self._known.get(connection_id)
        if known is None or self.now() - known[1] >= TTL:
            return None
        return known[0]

    def put(self, connection_id: str, identity: TargetIdentity) -> None:
        self._known[connection_id] = (identity, self.now())

    def forget(self, connection_id: str) -> None:
        self._known.pop(connection_id, None)
