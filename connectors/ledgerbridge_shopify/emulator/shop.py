"""The emulated shop's records, their change index and Shopify's search syntax.

Records are generated on demand by ``Seeder``; the shop keeps only a sorted
index of ``(updatedAt, id)`` per resource plus the records tests changed, so a
20,000-order shop stays small.  Cursors encode the last ``(updatedAt, id)``
seen -- like Shopify's, they stay valid when records change between pages.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .seed import CUSTOMER_BASE, ORDER_BASE, PRODUCT_BASE, SeedConfig, Seeder, iso

_TERM = re.compile(r"(\w+):(>=|<=|>|<|)\s*'?\"?([^'\"\s]+)'?\"?")


def parse_time(text: str) -> datetime:
    text = text.strip().strip("'\"")
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Search:
    """The ``updated_at`` bounds of a Shopify search string (other terms are ignored)."""

    lower: str | None = None
    lower_inclusive: bool = True
    upper: str | None = None
    upper_inclusive: bool = True

    @classmethod
    def parse(cls, query: str | None, *, day_granularity: bool = False) -> Search:
        lower = upper = None
        lower_inc = upper_inc = True
        for name, op, value in _TERM.findall(query or ""):
            if name != "updated_at":
                continue
            moment = parse_time(value)
            if day_granularity:
                # Shopify's customers search matches updated_at by whole day (facts doc §5.3).
                moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
            if op in (">=", ">", ""):
                lower, lower_inc = iso(moment), op != ">"
                if day_granularity:
                    lower_inc = True
            if op in ("<=", "<", ""):
                if day_granularity and op in ("<=", ""):
                    moment = moment + timedelta(days=1)
                    upper, upper_inc = iso(moment), False
                else:
                    upper, upper_inc = iso(moment), op == "<="
        return cls(lower, lower_inc, upper, upper_inc)


def encode_cursor(key: tuple[str, int]) -> str:
    return base64.b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        stamp, ident = json.loads(base64.b64decode(cursor))
        return str(stamp), int(ident)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc


class Resource:
    """One resource type (orders, customers, products): an index and changed records."""

    def __init__(
        self,
        count: int,
        base: int,
        updated: Callable[[int], datetime],
        build: Callable[..., dict[str, Any]],
    ) -> None:
        self.count = count
        self.base = base
        self._build = build
        self._keys: list[tuple[str, int]] = [(iso(updated(n)), base + n) for n in range(count)]
        self._keys.sort()
        self._changed: dict[int, dict[str, Any]] = {}
        self._deleted: set[int] = set()
        self._cache: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ident: int) -> dict[str, Any] | None:
        if ident in self._deleted or not (self.base <= ident < self.base + self.count):
            return None
        if ident in self._changed:
            return self._changed[ident]
        with self._lock:
            hit = self._cache.get(ident)
            if hit is not None:
                self._cache.move_to_end(ident)
                return hit
        record = self._build(ident - self.base)
        with self._lock:
            self._cache[ident] = record
            if len(self._cache) > 512:
                self._cache.popitem(last=False)
        return record

    def change(self, ident: int, record: dict[str, Any]) -> None:
        """Store a new version of a record (its ``updatedAt`` must be new) and re-index it."""
        old = self.get(ident)
        with self._lock:
            if old is not None:
                key = (old["updatedAt"], ident)
                at = bisect.bisect_left(self._keys, key)
                if at < len(self._keys) and self._keys[at] == key:
                    del self._keys[at]
            bisect.insort(self._keys, (record["updatedAt"], ident))
            self._changed[ident] = record
            self._cache.pop(ident, None)

    def delete(self, ident: int) -> None:
        old = self.get(ident)
        with self._lock:
            if old is not None:
                self._keys.remove((old["updatedAt"], ident))
            self._deleted.add(ident)

    def keys(
        self, search: Search, after: tuple[str, int] | None = None, reverse: bool = False
    ) -> Iterator[tuple[str, int]]:
        with self._lock:
            keys = list(self._keys) if len(self._keys) < 50_000 else self._keys
        lo = 0
        if search.lower is not None:
            probe = (search.lower, -1) if search.lower_inclusive else (search.lower, 1 << 62)
            lo = bisect.bisect_left(keys, probe)
        hi = len(keys)
        if search.upper is not None:
            probe = (search.upper, 1 << 62) if search.upper_inclusive else (search.upper, -1)
            hi = bisect.bisect_right(keys, probe)
        if reverse:
            for i in range(hi - 1, lo - 1, -1):
                if after is None or keys[i] < after:
                    yield keys[i]
            return
        if after is not None:
            lo = max(lo, bisect.bisect_right(keys, after))
        for i in range(lo, hi):
            yield keys[i]


class ShopData:
    """Everything the emulated shop holds."""

    def __init__(self, config: SeedConfig, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.seeder = Seeder(config)
        self.now = clock or (lambda: datetime.now(UTC))
        s = self.seeder
        self.orders = Resource(config.orders, ORDER_BASE, s.order_updated, s.order)
        self.customers = Resource(config.customers, CUSTOMER_BASE, s.customer_updated, s.customer)
        self.products = Resource(config.products, PRODUCT_BASE, s.product_updated, s.product)
        self._refunds: dict[int, int] = {}

    def order_is_old(self, order: dict[str, Any]) -> bool:
        """Older than 60 days: invisible without ``read_all_orders`` (facts doc §2.4)."""
        created = parse_time(order["createdAt"])
        return created < self.seeder.anchor - timedelta(days=60)

    def touch_order(self, n: int, **changes: Any) -> dict[str, Any]:
        """Record a change to order ``n`` (seed index) now; returns the new version."""
        ident = ORDER_BASE + n
        current = self.orders.get(ident)
        if current is None:
            raise KeyError(n)
        stamp = self.now()
        previous = parse_time(current["updatedAt"])
        if stamp <= previous:
            stamp = previous + timedelta(seconds=1)
        record = self.seeder.order(n, updated=stamp)
        record.update(changes)
        record["updatedAt"] = iso(stamp)
        self.orders.change(ident, record)
        return record

    def touch_customer(self, n: int, **changes: Any) -> dict[str, Any]:
        stamp = self.now()
        record = self.seeder.customer(n, updated=stamp)
        record.update(changes)
        self.customers.change(CUSTOMER_BASE + n, record)
        return record

    def refund(self, ident: int) -> dict[str, Any] | None:
        order = self.orders.get(ident // 10)
        if order is None:
            return None
        for refund in order["refunds"]:
            if int(refund["legacyResourceId"]) == ident:
                found: dict[str, Any] = refund
                return found
        return None
