"""The Zoho refresh token is revoked in the middle of a run of the real ``ledgerbridge sync``:
the run stops at the first refused refresh, asks Zoho's accounts server for a token at most
twice in all, leaves the records it did not reach pending (none failed), exits with the
dead-credentials code and the reconnect command, and ``status`` says "reconnect".  A second
run with the same credentials asks Zoho nothing; after ``connect`` stores new ones, the next
run finishes the work with one invoice per order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlmodel import select

from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import RecordState, Store, SyncRecord
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MERCHANT,
)

from .harness import woocommerce_to_zoho


class RevokeAfterInvoices:
    """ASGI wrapper: once the ``after``-th invoice is committed, the merchant revokes
    ledgerbridge's refresh token (facts doc §2.5, ``/oauth/v2/token/revoke``).  The access
    token in use dies with it -- whether Zoho keeps it alive until its hour is up is not
    documented (§2.8), so the emulator takes the stricter reading: the next call needs a
    refresh, and the refresh answers ``invalid_code`` (§2.6)."""

    def __init__(self, app: Any, after: int) -> None:
        self.app, self.after, self.seen = app, after, 0
        self.emulator = app.emulator

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)
        if (
            scope.get("type") == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").endswith("/invoices")
        ):
            self.seen += 1
            if self.seen == self.after:
                state = self.emulator.state
                state.revoke_refresh_tokens()
                state.expire_access_tokens()


def cli(h: Any, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEDGERBRIDGE_SECRET_KEY": key, "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "ledgerbridge", *args, "-c", str(h.config_path)],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def states(h: Any) -> Counter[str]:
    store = Store(h.db_url)
    with store.session() as s:
        found = Counter(r.state for r in s.exec(select(SyncRecord)))
    store.close()
    return found


def test_a_revoked_refresh_token_stops_the_run_at_once_and_asks_for_reconnection(
    tmp_path: Path, secret_key: str
) -> None:
    holder: dict[str, RevokeAfterInvoices] = {}

    def wrap(app: Any) -> RevokeAfterInvoices:
        holder["w"] = RevokeAfterInvoices(app, after=3)
        return holder["w"]

    with woocommerce_to_zoho(tmp_path, orders=8, wrap_zoho=wrap) as h:
        zoho = h.zoho.emulator.state
        orders = len(h.source_app.emulator.store.orders)

        done = cli(h, secret_key, "sync")
        assert done.returncode == ExitCode.CREDENTIALS, (done.returncode, done.stderr)
        assert zoho.token_requests <= 2, zoho.token_requests  # the first token, the refused one
        assert "ledgerbridge connect zohobooks --tenant acme --name books" in done.stderr
        assert "acme/books" in done.stderr and "invalid_code" in done.stderr
        counted = states(h)
        assert counted[RecordState.FAILED.value] == 0, counted
        assert counted[RecordState.RETRYING.value] == 0, counted
        assert counted[RecordState.SYNCED.value] < orders, counted  # it stopped early
        assert set(counted) <= {"synced", "skipped", "pending"}, counted

        status = cli(h, secret_key, "status", "--no-limits")
        assert status.returncode == ExitCode.OK, status.stderr
        assert "need reconnecting" in status.stdout and "acme/books" in status.stdout
        assert "ledgerbridge connect zohobooks --tenant acme --name books" in status.stdout

        # The same dead credentials are not tried again, not even by a new process.
        again = cli(h, secret_key, "sync")
        assert again.returncode == ExitCode.CREDENTIALS, again.stderr
        assert zoho.token_requests <= 2, zoho.token_requests
        assert states(h)[RecordState.FAILED.value] == 0

        # The merchant reconnects (what `ledgerbridge connect zohobooks` stores) ...
        store = Store(h.db_url)
        store.upsert_connection(
            "acme", "books", platform="zohobooks", kind="target",
            secrets={
                "client_id": EMULATOR_CLIENT_ID,
                "client_secret": EMULATOR_CLIENT_SECRET,
                "refresh_token": zoho.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT),
            },
        )  # fmt: skip
        store.close()
        assert "need reconnecting" not in cli(h, secret_key, "status", "--no-limits").stdout

        # ... and the next run finishes: every order posted once, nothing left pending.
        final = cli(h, secret_key, "sync")
        assert final.returncode in (ExitCode.OK, ExitCode.PARKED), final.stderr
        counted = states(h)
        assert counted[RecordState.PENDING.value] == 0 and counted["failed"] == 0, counted
        refs = Counter(
            d["reference_number"]
            for d in h.documents("invoices")
            if not d["reference_number"].startswith("SEED-") and d["status"] != "void"
        )
        assert refs and all(n == 1 for n in refs.values()), refs
