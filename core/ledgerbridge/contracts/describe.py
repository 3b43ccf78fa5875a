"""What a source's recent orders use: the input of ``ledgerbridge mappings init``.

A starter mapping needs the store's tax titles and rates, payment gateways,
statuses and currencies.  ``describe_orders`` reads them from canonical orders,
so every source gets ``Source.describe`` for free (a sample of orders through
``changes``); a connector with a cheaper listing (a store's tax classes, its
status list) may override it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ..canonical import Order, OrderStatus
from ..canonical.common import TaxLine


@dataclass(frozen=True)
class SeenTax:
    title: str
    rate: Decimal | None  # a fraction (0.2 for 20 %), when the source states it


@dataclass
class SourceDescription:
    """Counts of what ``orders`` sampled orders used (most used first when listed)."""

    orders: int = 0
    unreadable: int = 0  # orders the connector could not turn into canonical ones
    taxes: Counter[SeenTax] = field(default_factory=Counter)
    gateways: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, OrderStatus]] = field(default_factory=Counter)  # (raw, meaning)
    currencies: Counter[str] = field(default_factory=Counter)
    fee_kinds: Counter[str] = field(default_factory=Counter)

    def add(self, order: Order) -> None:
        self.orders += 1
        self.currencies[order.currency] += 1
        raw = order.source_status
        self.statuses[(str(raw or order.status.value), order.status)] += 1
        for tax in _taxes(order):
            self.taxes[SeenTax(tax.title, tax.rate)] += 1
        for gateway in {*order.payment_gateways, *(p.gateway for p in order.payments)}:
            if gateway:
                self.gateways[gateway] += 1
        for fee in order.fees:
            self.fee_kinds[fee.kind] += 1

    @property
    def unmapped_statuses(self) -> list[str]:
        return sorted({raw for raw, meaning in self.statuses if meaning is OrderStatus.UNKNOWN})


def _taxes(order: Order) -> Iterable[TaxLine]:
    yield from order.tax_lines
    for line in order.lines:
        yield from line.taxes
    for ship in order.shipping_lines:
        yield from ship.taxes
    for fee in order.fees:
        yield from fee.taxes
