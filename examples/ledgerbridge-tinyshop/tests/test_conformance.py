"""TinyShop passes ledgerbridge's standard source checks by declaring its world (its emulator,
and how to change, break and deliver an order)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from ledgerbridge_tinyshop.emulator import TOKEN, WEBHOOK_SECRET, create_app, sign, webhook_body
from ledgerbridge_tinyshop.source import TinyShopSecrets, TinyShopSettings, TinyShopSource
from pydantic import SecretStr

from ledgerbridge.contracts import ConnectorContext, WebhookRequest
from ledgerbridge.testing.conformance import CHECKS, Wrap, run_check, tampered_body


class TinyShopWorld:
    def __init__(self) -> None:
        self.app = create_app()
        self.orders = self.app.state.orders

    def source(self, wrap: Wrap | None = None) -> TinyShopSource:
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(self.app)
        context = ConnectorContext(
            "demo/tinyshop",
            "demo",
            TinyShopSettings(base_url="http://tinyshop.test"),
            TinyShopSecrets(api_token=SecretStr(TOKEN), webhook_secret=SecretStr(WEBHOOK_SECRET)),
            transport=wrap(transport) if wrap else transport,
        )
        return TinyShopSource(context)

    def touch(self, external_id: str) -> None:
        order = self.orders[external_id]
        later = datetime.fromisoformat(max(o["updated_at"] for o in self.orders.values()))
        order["updated_at"] = (later + timedelta(minutes=5)).isoformat()

    def break_record(self, external_id: str) -> None:
        order = self.orders[external_id]
        order["total"] = str(Decimal(order["total"]) + 10)

    def webhook(self, external_id: str) -> WebhookRequest:
        body = webhook_body(self.orders[external_id])
        return WebhookRequest({"X-TinyShop-Signature": sign(body)}, body)

    tamper = staticmethod(tampered_body)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_standard_source_checks(check: str) -> None:
    run_check(check, TinyShopWorld)
