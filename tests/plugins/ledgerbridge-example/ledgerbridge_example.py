"""A minimal third-party source: three orders from memory, two per page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from ledgerbridge import hookimpl
from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import (
    Change,
    ChangePage,
    ConnectorContext,
    ConnectorKind,
    ConnectorSpec,
    Source,
)
from ledgerbridge.errors import NotFound


class ExampleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store: str = "example"


def _order(n: int) -> Order:
    price = {"amount": f"{n}0.00", "currency": "EUR"}
    return Order.model_validate(
        {
            "source": {
                "platform": "example",
                "store": "example",
                "external_id": str(n),
                "version": str(n),
            },
            "number": f"EX-{n}",
            "currency": "EUR",
            "created_at": datetime(2026, 1, n, tzinfo=UTC),
            "lines": [{"line_id": f"{n}-1", "title": "Thing", "quantity": 1, "unit_price": price}],
            "totals": {"total": price},
        }
    )


class ExampleSource(Source):
    def __init__(self, context: ConnectorContext) -> None:
        self.context = context
        self.orders = [_order(n) for n in (1, 2, 3)]

    async def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        size = page_size or 2
        todo = [
            o
            for o in self.orders
            if checkpoint is None or int(o.source.external_id) > int(checkpoint)
        ]
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            yield ChangePage(
                changes=[
                    Change(entity, o.source.external_id, o.source.version, record=o) for o in chunk
                ],
                checkpoint=chunk[-1].source.external_id,
            )

    async def fetch(self, entity: EntityType, external_id: str) -> Order:
        for order in self.orders:
            if order.source.external_id == external_id:
                return order
        raise NotFound(f"no order {external_id}", platform="example")


@hookimpl
def register_sources(register):
    register(
        ConnectorSpec(
            name="example",
            kind=ConnectorKind.SOURCE,
            title="Example",
            factory=ExampleSource,
            settings_model=ExampleSettings,
            capabilities=frozenset({"orders"}),
        )
    )
