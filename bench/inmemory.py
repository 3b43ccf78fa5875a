"""A source and a target that live in memory, for measuring the engine alone.

No HTTP, no emulator: what remains is ledgerbridge's own work per order --
planning, the mapping, intents, bindings, state transitions, audit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from ledgerbridge.canonical import EntityType, Order
from ledgerbridge.contracts import Change, ChangePage, Source, Target, TargetIdentity
from ledgerbridge.contracts.target import TargetDocument
from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    ItemDraft,
    LookupEntry,
    LookupKind,
    PaymentDraft,
    TargetRef,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


def order(n: int, customers: int = 50, skus: int = 20, currency: str = "EUR") -> Order:
    """A paid two-line order with VAT, shipping and a discount: 19 + 5 + 4.90 + 5.49 tax = 34.39."""

    def m(a: str) -> dict[str, str]:
        return {"amount": a, "currency": currency}

    c = n % customers
    return Order.model_validate(
        {
            "source": {"platform": "bench", "store": "s", "external_id": str(n), "version": "1"},
            "number": f"#{n}",
            "currency": currency,
            "created_at": START + timedelta(minutes=n),
            "email": f"c{c}@example.com",
            "customer": {
                "source": {"platform": "bench", "store": "s", "external_id": f"c{c}"},
                "email": f"c{c}@example.com",
                "first_name": "C",
                "last_name": str(c),
            },
            "lines": [
                {"line_id": f"{n}-1", "title": "A", "sku": f"SKU-{n % skus}", "quantity": 2,
                 "unit_price": m("10.00"), "discount": m("1.00"),
                 "taxes": [{"title": "VAT", "rate": "0.19", "amount": m("3.61")}]},
                {"line_id": f"{n}-2", "title": "B", "sku": f"SKU-{(n + 1) % skus}", "quantity": 1,
                 "unit_price": m("5.00"),
                 "taxes": [{"title": "VAT", "rate": "0.19", "amount": m("0.95")}]},
            ],
            "shipping_lines": [{"title": "DHL", "price": m("4.90"),
                                "taxes": [{"title": "VAT", "rate": "0.19", "amount": m("0.93")}]}],
            "totals": {"total": m("34.39")},
            "payments": [{"external_id": f"p{n}", "kind": "sale", "status": "success",
                          "amount": m("34.39"), "gateway": "stripe"}],
            "financial_status": "paid",
        }
    )  # fmt: skip


class MemorySource(Source):
    """Yields ``total`` orders in pages, built lazily (memory stays flat).

    ``prebuilt``: build every order up front, so a timed run measures the engine alone
    and not the canonical model's validation (a source connector's cost, measured in
    the connector and canonical benchmarks)."""

    def __init__(
        self,
        total: int,
        page_size: int = 250,
        start: int = 0,
        currency: str = "EUR",
        *,
        prebuilt: bool = False,
    ) -> None:
        self.total, self.page_size, self.start, self.currency = total, page_size, start, currency
        self.built = (
            {n: order(n, currency=currency) for n in range(start, total)} if prebuilt else None
        )

    def _order(self, n: int) -> Order:
        return self.built[n] if self.built is not None else order(n, currency=self.currency)

    async def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        begin = int(checkpoint or self.start)
        for first in range(begin, self.total, self.page_size):
            last = min(first + self.page_size, self.total)
            changes = [
                Change(EntityType.ORDER, str(n), "1", record=self._order(n))
                for n in range(first, last)
            ]
            yield ChangePage(changes, str(last))

    async def fetch(self, entity: EntityType, external_id: str) -> Order:
        return order(int(external_id), currency=self.currency)


class MemoryTarget(Target):
    """Stores nothing but ids and counts calls; answers instantly."""

    def __init__(self) -> None:
        self.ids: Iterator[int] = count(1)
        self.calls: dict[str, int] = {}
        self.contacts: dict[str, str] = {}
        self.items: dict[str, str] = {}

    def _ref(self, kind: str, op: str) -> TargetRef:
        self.calls[op] = self.calls.get(op, 0) + 1
        return TargetRef(kind=kind, target_id=str(next(self.ids)))

    async def identity(self) -> TargetIdentity:
        return TargetIdentity("org-1", "Bench", "EUR", ("org-1",))

    async def find_contact(
        self,
        *,
        email: str | None = None,
        key: str | None = None,
        name: str | None = None,
        currency: str | None = None,
    ) -> TargetRef | None:
        self.calls["find_contact"] = self.calls.get("find_contact", 0) + 1
        found = self.contacts.get(email or key or name or "")
        return TargetRef(kind="contact", target_id=found) if found else None

    async def create_contact(self, draft: ContactDraft) -> TargetRef:
        ref = self._ref("contact", "create_contact")
        self.contacts[draft.email or draft.link.key] = ref.target_id
        return ref

    async def update_contact(self, ref: TargetRef, draft: ContactDraft) -> TargetRef:
        return ref

    async def find_item(self, *, sku: str) -> TargetRef | None:
        found = self.items.get(sku)
        return TargetRef(kind="item", target_id=found) if found else None

    async def create_item(self, draft: ItemDraft) -> TargetRef:
        ref = self._ref("item", "create_item")
        self.items[draft.sku or ""] = ref.target_id
        return ref

    async def update_item(self, ref: TargetRef, draft: ItemDraft) -> TargetRef:
        return ref

    async def create_document(
        self, draft: DocumentDraft, *, first_attempt: bool = False
    ) -> TargetRef:
        return self._ref(draft.kind.value, f"create_{draft.kind.value}")

    async def update_document(self, ref: TargetRef, draft: DocumentDraft) -> TargetRef:
        return self._ref(draft.kind.value, "update_document")

    async def void_document(self, ref: TargetRef) -> None:
        self._ref(ref.kind, "void")

    async def find_document(self, kind: DocumentKind, key: BusinessKey) -> TargetDocument | None:
        return None

    async def get_document(self, ref: TargetRef) -> TargetDocument:
        return TargetDocument(ref=ref, key=None, status="sent", total=None)

    async def record_payment(
        self, draft: PaymentDraft, *, first_attempt: bool = False
    ) -> TargetRef:
        return self._ref("payment", "record_payment")

    async def apply_credit(self, application: CreditApplication) -> None:
        self._ref("credit", "apply_credit")

    async def refund_credit(self, draft: CreditRefundDraft) -> TargetRef:
        return self._ref("refund", "refund_credit")

    async def lookups(self, kind: LookupKind) -> list[LookupEntry]:
        return []


MAPPING = """\
version: 1
source: bench
target: memory
posting_policy: invoice
lookups:
  taxes:
    match_by: title_and_rate
    entries:
      - {title: VAT, rate: 0.19, tax_id: "tax-19"}
  payment_methods:
    entries:
      stripe: {payment_mode: creditcard, account_id: "acc-1"}
summary:
  sales_accounts:
    default: "acc-1"
"""


def runner_for(
    tmp: Any,
    source: Source,
    target: Target,
    policy: str = "invoice",
    mapping: str = MAPPING,
    store: Any = None,
) -> Any:
    """A PipelineRunner over ``store``; by default a SQLite store in ``tmp``, kept between calls."""
    from pathlib import Path

    from ledgerbridge.config import PipelineConfig
    from ledgerbridge.engine.journal import Journal, Scope
    from ledgerbridge.engine.runner import PipelineRunner
    from ledgerbridge.mapping import load_mapping
    from ledgerbridge.store import Store

    tmp = Path(tmp)
    (tmp / "mapping.yaml").write_text(mapping)
    if store is None:
        store = Store(f"sqlite:///{tmp / 'bench.db'}")
    store.migrate()
    pipeline = PipelineConfig(id="bench", source="src", target="tgt", mapping="mapping.yaml",
                              posting_policy=policy)  # fmt: skip
    journal = Journal(store, Scope("t", "bench", "t/src", "t/tgt"))
    return PipelineRunner(
        pipeline=pipeline, tenant_id="t", source=source, target=target,
        runtime=load_mapping(tmp / "mapping.yaml"), journal=journal, store=store, holder="bench",
    )  # fmt: skip


__all__ = ["MemorySource", "MemoryTarget", "order", "runner_for"]
