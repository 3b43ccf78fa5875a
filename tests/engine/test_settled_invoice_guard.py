"""An invoice left to its payment (``settled_in_plan``) is never silently left a draft.

Under the Zoho connector's default ``mark_invoices_sent: unless_paid``, an order paid at
checkout is written as a draft invoice plus a payment; the payment is what takes the invoice
out of draft. If that payment fails for good, the order is parked (``failed``) -- with the
draft invoice bound to it -- and a replay records the payment, which takes the invoice out of
draft. Nothing is duplicated along the way.

WooCommerce emulator -> real connectors, engine, mapping and SQLite store -> Zoho Books
emulator, over real loopback sockets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from ledgerbridge.store import RecordState

from .harness import woocommerce_to_zoho

pytestmark = pytest.mark.usefixtures("secret_key")


class RefusePayments:
    """Zoho answers ``POST /customerpayments`` with a validation error while ``refusing``
    (a definite failure: nothing was written)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refusing = True
        self.refused = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        hit = (
            self.refusing
            and scope.get("type") == "http"
            and scope.get("method") == "POST"
            and scope.get("path", "").endswith("/customerpayments")
        )
        if not hit:
            await self.app(scope, receive, send)
            return
        self.refused += 1
        body = b'{"code": 2, "message": "Invalid value passed for account_id"}'
        headers = [(b"content-type", b"application/json;charset=UTF-8")]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def run(h: Any, name: str = "sync", **kw: Any) -> tuple[Any, Any]:
    engine = h.engine()

    async def main() -> Any:
        async with engine:
            return await getattr(engine, name)(**kw)

    return anyio.run(main), engine


def invoice_of(h: Any, engine: Any, external_id: str) -> dict[str, Any] | None:
    xref = engine.store.get_xref("acme", "acme/shop", "order", external_id, "acme/books", "invoice")
    return None if xref is None else h.org.invoices[xref.target_id]


def test_a_failed_payment_parks_the_order_and_its_replay_takes_the_invoice_out_of_draft(
    tmp_path: Path,
):
    refuse: RefusePayments | None = None

    def wrap(app: Any) -> RefusePayments:
        nonlocal refuse
        refuse = RefusePayments(app)
        return refuse

    with woocommerce_to_zoho(tmp_path, orders=12, wrap_zoho=wrap) as h:
        assert refuse is not None
        woo = {str(k): v for k, v in h.source_app.emulator.store.orders.items()}
        _, engine = run(h)
        assert refuse.refused > 0

        parked = engine.failures([RecordState.FAILED, RecordState.RETRYING])
        assert parked, "the refused payments parked no order"
        assert all(r.state == RecordState.FAILED.value for r in parked)  # definite: no retry
        for record in parked:
            assert woo[record.external_id].get("date_paid_gmt"), record.external_id
            invoice = invoice_of(h, engine, record.external_id)
            assert invoice is not None and invoice["status"] == "draft"  # visible, parked
            assert "account_id" in (record.reason or ""), record.reason
        for record in engine.failures([RecordState.SYNCED]):
            invoice = invoice_of(h, engine, record.external_id)
            if invoice is not None:
                assert invoice["status"] != "draft", record.external_id  # unpaid: marked sent

        invoices, payments = len(h.org.invoices), len(h.org.payments)
        refuse.refusing = False  # the operator fixes the cause
        reports, engine = run(h, "replay", state="failed")
        assert sum(r.states["synced"] for r in reports) == len(parked)
        assert engine.failures([RecordState.FAILED, RecordState.RETRYING]) == []
        assert len(h.org.invoices) == invoices  # the draft invoices were reused, not rewritten
        assert len(h.org.payments) > payments
        for record in parked:
            invoice = invoice_of(h, engine, record.external_id)
            assert invoice is not None and invoice["status"] == "paid", (
                record.external_id,
                invoice and invoice["status"],
            )
        drafts = [
            i["reference_number"]
            for i in h.org.invoices.values()
            if i["status"] == "draft" and not i["reference_number"].startswith("SEED-")
        ]
        assert drafts == []
