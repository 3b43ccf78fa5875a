"""Shopify emulator edits for the posting-trigger and fulfilment tests.

Each helper rewrites one seeded order as the Shopify admin would leave it (a new
``updatedAt``, so the next ``updated_at:>`` search returns it) and returns the record.
Transaction and fulfilment shapes follow the emulator's seed (refdata
shopify-graphql-schema 2025-01 ``OrderTransaction``, ``Fulfillment``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge_shopify.emulator.seed import ORDER_BASE, gid, iso


def run(h: Any, name: str = "sync", *args: Any, **kw: Any) -> Any:
    engine = h.engine()

    async def main() -> Any:
        async with engine:
            return await getattr(engine, name)(*args, **kw)

    return anyio.run(main), engine


def set_trigger(h: Any, trigger: str, paid_when: str = "any") -> None:
    text = h.config_path.read_text()
    line = next(x for x in text.splitlines() if x.strip().startswith("posting_policy:"))
    indent = line[: len(line) - len(line.lstrip())]
    extra = f"{indent}posting_trigger: {trigger}\n{indent}paid_when: {paid_when}"
    h.config_path.write_text(text.replace(line, f"{line}\n{extra}", 1))


def shop(h: Any) -> Any:
    return h.source_app.shop


def seeded(h: Any, n: int) -> dict[str, Any]:
    record: dict[str, Any] = shop(h).orders.get(ORDER_BASE + n)
    return record


def single_currency(h: Any, *, lines: int = 1, skip: tuple[int, ...] = ()) -> list[int]:
    """Seed indexes of plain orders: shop money only, no refund, not cancelled, no gift
    card line, at least ``lines`` lines."""
    found = []
    for n in range(shop(h).orders.count):
        o = seeded(h, n)
        if (
            n not in skip
            and o["currencyCode"] == o["presentmentCurrencyCode"]
            and not o["refunds"]
            and not o["cancelledAt"]
            and not any(i["isGiftCard"] for i in o["lineItems"])
            and len(o["lineItems"]) >= lines
            and not o["test"]
        ):
            found.append(n)
    return found


def total(record: dict[str, Any]) -> Decimal:
    return Decimal(record["totalPriceSet"]["shopMoney"]["amount"])


def txn(
    record: dict[str, Any], k: int, kind: str, amount: Decimal, *, parent: str | None = None,
    gateway: str = "shopify_payments", status: str = "SUCCESS",
) -> dict[str, Any]:  # fmt: skip
    cur = record["currencyCode"]
    money = {"amount": str(amount), "currencyCode": cur}
    return {
        "id": gid("OrderTransaction", int(record["legacyResourceId"]) * 100 + 50 + k),
        "kind": kind,
        "status": status,
        "gateway": gateway,
        "processedAt": record["createdAt"],
        "test": False,
        "paymentId": f"t{record['legacyResourceId']}-{k}",
        "amountSet": {"shopMoney": money, "presentmentMoney": money},
        "parentTransaction": {"id": parent} if parent else None,
    }


def touch(h: Any, n: int, **changes: Any) -> dict[str, Any]:
    """Change order ``n`` now.  Stamps are whole seconds and a source reads nothing stamped
    after its own clock, so a second edit within a second waits for the next one."""
    import time
    from datetime import UTC, datetime

    previous = datetime.fromisoformat(seeded(h, n)["updatedAt"].replace("Z", "+00:00"))
    while datetime.now(UTC).replace(microsecond=0) <= previous:
        time.sleep(0.05)
    record: dict[str, Any] = shop(h).touch_order(n, **changes)
    return record


def now_iso(h: Any) -> str:
    return iso(shop(h).now())


async def _read(h: Any, engine: Any, external_id: str) -> Order:
    async with engine:
        order = await engine.source("acme", "shop").fetch(EntityType.ORDER, external_id)
        assert isinstance(order, Order)
        return order


def canonical(h: Any, n: int) -> Order:
    engine = h.engine()
    order: Order = anyio.run(_read, h, engine, str(ORDER_BASE + n))
    return order


def split_in_parts(record: dict[str, Any], parts: int) -> list[list[int]]:
    """Per part, the quantity of each line: the order's units dealt round-robin."""
    quantities = [[0] * len(record["lineItems"]) for _ in range(parts)]
    k = 0
    for j, line in enumerate(record["lineItems"]):
        for _ in range(int(line["quantity"])):
            quantities[k % parts][j] += 1
            k += 1
    return quantities


def shipments(record: dict[str, Any], quantities: list[list[int]]) -> list[dict[str, Any]]:
    from datetime import datetime, timedelta

    from ledgerbridge_shopify.emulator.seed import fulfillment

    created = datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
    oid = int(record["legacyResourceId"])
    return [
        fulfillment(
            oid * 10 + 5 + i, i + 1, created + timedelta(hours=i + 1), record["lineItems"], q
        )
        for i, q in enumerate(quantities)
    ]


def _amount(bag: dict[str, Any]) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"])


def refund_of(
    record: dict[str, Any], k: int, items: list[tuple[int, int, str]], parent: str
) -> dict[str, Any]:
    """A refund of ``(line index, units, restockType)`` with its money returned in one
    REFUND transaction (shape: the emulator seed's; the shop finds it by id // 10)."""
    from ledgerbridge_shopify.emulator.seed import cents

    oid = int(record["legacyResourceId"])
    lines, credit = [], Decimal(0)
    for j, units, restock in items:
        line = record["lineItems"][j]
        qty = Decimal(line["quantity"])
        net = _amount(line["originalUnitPriceSet"]) * qty - _amount(line["totalDiscountSet"])
        tax = sum((_amount(t["priceSet"]) for t in line["taxLines"]), Decimal(0))
        sub, rtax = cents(net * units / qty), cents(tax * units / qty)
        credit += sub + (Decimal(0) if record["taxesIncluded"] else rtax)
        money = line["originalUnitPriceSet"]["shopMoney"]["currencyCode"]
        lines.append({
            "id": gid("RefundLineItem", oid * 100 + 60 + j), "quantity": units,
            "restockType": restock, "lineItem": line, "priceSet": line["originalUnitPriceSet"],
            "subtotalSet": {"shopMoney": {"amount": str(sub), "currencyCode": money},
                            "presentmentMoney": {"amount": str(sub), "currencyCode": money}},
            "totalTaxSet": {"shopMoney": {"amount": str(rtax), "currencyCode": money},
                            "presentmentMoney": {"amount": str(rtax), "currencyCode": money}},
        })  # fmt: skip
    back = txn(record, 10 + k, "REFUND", credit, parent=parent)
    return {
        "id": gid("Refund", oid * 10 + k),
        "legacyResourceId": str(oid * 10 + k),
        "createdAt": record["createdAt"],
        "updatedAt": record["createdAt"],
        "note": "refund",
        "totalRefundedSet": back["amountSet"],
        "refundLineItems": lines,
        "refundShippingLines": [],
        "orderAdjustments": [],
        "transactions": [back],
    }
