"""A store's order statuses (``order.status.list``) and what each means canonically.

Statuses are platform-native ``{id, name}`` pairs ("Shipped", "wc-completed",
"Canceled"...).  A status is trusted only when the store lists it *and* its id
or name is in the table below (or the connection's ``status_map``); anything
else is ``OrderStatus.UNKNOWN`` -- not posted, flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ledgerbridge.canonical import OrderStatus
from ledgerbridge.contracts.vocabulary import Vocabulary, plain_words

_SPELLINGS = {
    OrderStatus.DRAFT: ("draft", "checkout draft"),
    OrderStatus.PENDING: ("pending", "pending payment", "awaiting payment", "unpaid"),
    OrderStatus.ON_HOLD: ("on hold", "hold"),
    OrderStatus.OPEN: ("processing", "open", "paid", "unshipped", "partially shipped",
                       "awaiting fulfillment", "awaiting shipment"),
    OrderStatus.COMPLETED: ("shipped", "delivered", "complete", "completed", "closed",
                            "fulfilled", "refunded"),
    OrderStatus.CANCELLED: ("canceled", "cancelled", "voided"),
    OrderStatus.FAILED: ("failed", "payment failed"),
}  # fmt: skip
STATUSES = Vocabulary(
    normalise=plain_words,  # 'wc-on-hold', 'On_Hold', 'PartiallyShipped' match their plain words
    words={word: status for status, words in _SPELLINGS.items() for word in words},
)


@dataclass(frozen=True)
class StatusBook:
    """The statuses one store reports, plus the connection's own overrides."""

    store_statuses: Mapping[str, str]  # id -> name, from order.status.list
    overrides: Mapping[str, OrderStatus] = field(default_factory=dict)

    @classmethod
    def from_list(
        cls, statuses: Iterable[Mapping[str, object]], overrides: Mapping[str, OrderStatus]
    ) -> StatusBook:
        return cls(
            {str(s.get("id")): str(s.get("name") or s.get("id")) for s in statuses if s.get("id")},
            dict(overrides),
        )

    def resolve(self, status_id: str | None, name: str | None) -> OrderStatus:
        """Canonical status; ``UNKNOWN`` unless the store lists it and we know what it means."""
        override = STATUSES.overridden(self.overrides, status_id, name)
        if override is not None:
            return override
        if not status_id or status_id not in self.store_statuses:
            return OrderStatus.UNKNOWN
        listed = self.store_statuses[status_id]
        return STATUSES.meaning(status_id, name, listed, unknown=OrderStatus.UNKNOWN)
