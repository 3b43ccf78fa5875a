"""The WooCommerce ``Source``: incremental reads, single fetches, webhooks.

* Orders and products are keyset reads on ``date_modified_gmt`` (``ledgerbridge.incremental.
  keyset``): ``modified_after`` = the lane's mark less a second (whether WordPress treats the
  bound as inclusive is not documented), ``orderby=modified&order=asc``.  Orders are read in two
  lanes, ``status=any`` and ``status=trash`` (whether ``any`` includes trash is not documented).
  A site that ignores ``modified_after`` (too old) raises ``StoreTooOld`` instead of re-reading
  its whole history as if it were new.
* Refunds ride on their order: those a page of orders lists come in one ``GET /refunds?include=``
  on WooCommerce 9.0+ (``refunds_endpoint: auto`` falls back to ``/orders/{id}/refunds``).
* Customers have no date filter: the first read is a full pass over ``/customers``; after it,
  each read takes the registered customers of the orders modified since (``include=``).  Guests
  exist only on their orders (``Order.customer`` with ``is_guest``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ledgerbridge.canonical import CanonicalRecord, EntityType, Order, OrderStatus
from ledgerbridge.catalog_kit import chunks
from ledgerbridge.contracts import (
    Change,
    ChangePage,
    ConnectorContext,
    Source,
    WebhookEvent,
    WebhookRequest,
)
from ledgerbridge.contracts.guard import guarded
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import NotFound
from ledgerbridge.http import has_more_pages
from ledgerbridge.incremental import Checkpoint, Listing, Watermark, instant_text
from ledgerbridge.incremental.keyset import Keyset
from ledgerbridge.retry import DEFAULT_POLICY, RetryPolicy

from . import webhooks
from .catalog import map_customer, map_product
from .client import Page, WooClient
from .fields import gmt, version_of
from .mapper import map_order
from .responses import PLATFORM, RouteMissing, StoreTooOld, TimedOut
from .settings import WooCommerceSecrets, WooCommerceSettings

log = logging.getLogger(__name__)

ORDER_STREAMS = ("any", "trash")
MIN_PAGE = 10  # per_page is halved on timeouts down to this, then timeouts are retried as is
OVERLAP = timedelta(seconds=1)
Record = dict[str, Any]


def modified(item: Record) -> datetime | None:
    where = f"{item.get('id')}.date_modified_gmt"
    return gmt(item.get("date_modified_gmt"), where) or gmt(item.get("date_created_gmt"), where)


def _listing(entity: EntityType, **declared: Any) -> Listing:
    declared.setdefault("version", lambda r: text(r.get("date_modified_gmt")))
    # strict: ordered by the instant the lane moves on, a keyset
    return Listing(entity, PLATFORM, identify="id", moment=modified, strict=True, **declared)


ORDERS = _listing(
    EntityType.ORDER, version=version_of, deleted=lambda r: r.get("status") == "trash"
)
PRODUCTS = _listing(EntityType.PRODUCT)
CUSTOMERS = _listing(EntityType.CUSTOMER)
LISTINGS = {listing.entity: listing for listing in (ORDERS, PRODUCTS, CUSTOMERS)}


class WooCommerceSource(Source):
    def __init__(self, context: ConnectorContext, *, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        settings, secrets = context.as_models(WooCommerceSettings, WooCommerceSecrets)
        self.context, self.settings, self.secrets = context, settings, secrets
        self.store = settings.store_key
        self.client = WooClient(context, settings, secrets, policy=policy)
        self._refunds_mode = settings.refunds_endpoint
        self._page_cap = 100  # lowered when the host times out on large pages
        self._remaining: int | None = None  # progress: X-WP-Total less the query's earlier pages

    async def aclose(self) -> None:
        await self.client.aclose()

    def verify_webhook(self, request: WebhookRequest) -> None:
        secret = self.secrets.webhook_secret
        webhooks.verify(request, secret.get_secret_value() if secret else None)

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent | None:
        return webhooks.parse(request)

    async def fetch(self, entity: EntityType, external_id: str) -> CanonicalRecord:
        if not external_id.isdigit():
            raise NotFound(
                f"woocommerce: customer {external_id} is a guest; guests exist only on their orders"
                if entity is EntityType.CUSTOMER
                else f"woocommerce: {entity.value} id {external_id!r} is not a WooCommerce id",
                platform=PLATFORM,
            )
        number = external_id if entity is EntityType.CUSTOMER else int(external_id)
        data = await self.client.get_object(f"/{entity.value}s/{number}")
        [build] = await self._builders(entity, [data])
        with guarded(PLATFORM, entity, external_id):
            return build()

    def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        per_page = min(page_size or self.settings.per_page, 100)
        if entity is EntityType.CUSTOMER:
            return self._customer_changes(checkpoint, per_page)
        return self._keyset_changes(entity, checkpoint, per_page)

    def backfill(
        self, entity: EntityType, since: datetime | None = None
    ) -> AsyncIterator[ChangePage]:
        """A full pass (customers: every registered customer; others: from ``since``)."""
        if entity is EntityType.CUSTOMER:
            return self._customer_changes(None, self.settings.per_page)
        return self.changes(entity, since.isoformat() if since else None)

    async def _builders(
        self, entity: EntityType, items: list[Record]
    ) -> list[Callable[[], CanonicalRecord]]:
        """How to map each record of a page, once what it needs is read: an order's refunds,
        a variable product's variations."""
        if entity is EntityType.ORDER:
            refunds = await self._refunds_for(items)
            return [
                functools.partial(self._order, item, refunds.get(str(item.get("id")), []))
                for item in items
            ]
        if entity is EntityType.CUSTOMER:
            return [functools.partial(map_customer, item, self.store) for item in items]
        currency = self.settings.currency
        return [
            functools.partial(
                map_product, item, self.store, await self._variations(item), currency=currency
            )
            for item in items
        ]

    async def _walk(
        self, path: str, params: dict[str, Any], lane: Watermark, per_page: int, listing: Listing
    ) -> AsyncIterator[tuple[list[Record], Watermark]]:
        """Pages of records modified after ``lane``, oldest first, each with the lane after it."""

        async def fetch(since: datetime | None, page: int, size: int, last_resort: bool) -> Page:
            query = {**params, "orderby": "modified", "order": "asc"}
            if since is not None:  # GMT dates
                query |= {
                    "modified_after": since.strftime("%Y-%m-%dT%H:%M:%S"),
                    "dates_are_gmt": "true",
                }
            return await self.client.get_page(path, query, page, size, retry_timeouts=last_resort)

        def shrunk(size: int, smaller: int) -> None:
            # Large pages are what WordPress hosts fail to render in time.
            log.warning(
                "woocommerce %s: %s timed out with per_page=%d; retrying with %d",
                self.store,
                path,
                size,
                smaller,
            )
            self._page_cap = smaller  # kept for the rest of this source's reads

        def too_old(item: Record, moment: datetime, bound: datetime) -> StoreTooOld:
            return StoreTooOld(
                f"woocommerce: {self.store} returned {path} {item.get('id')} modified "
                f"{moment.isoformat()}, before modified_after={bound.isoformat()}: "
                "the site ignores modified_after (WooCommerce too old). Upgrade it, "
                "or run a full backfill and rely on webhooks",
                platform=PLATFORM,
            )

        cap = min(per_page, self._page_cap)
        keyset = Keyset(listing, OVERLAP, fetch, cap, too_old, MIN_PAGE, TimedOut, shrunk)
        async for fresh, after in keyset.pages(lane):
            self._remaining = keyset.remaining
            yield fresh, after

    async def _keyset_changes(
        self, entity: EntityType, checkpoint: str | None, per_page: int
    ) -> AsyncIterator[ChangePage]:
        """Orders in their two lanes (named by status), or products in one (``main``)."""
        orders = entity is EntityType.ORDER
        lanes = ORDER_STREAMS if orders else ("main",)
        state = Checkpoint.loads(checkpoint, lanes=lanes, platform=PLATFORM, what=entity.value)
        if orders and "main" in state.lanes:  # an older stored bare date
            state = Checkpoint({"any": state.lane("main"), "trash": state.lane("main")})
        listing = LISTINGS[entity]
        for stream in lanes:
            lane = state.lane(stream)
            query = {"status": stream if orders else "any"}
            async for items, after in self._walk(f"/{entity}s", query, lane, per_page, listing):
                builders = await self._builders(entity, items)
                changes = [listing.change(item, b) for item, b in zip(items, builders, strict=True)]
                state = state.with_lane(stream, after)
                if orders and not changes and after == lane:
                    continue  # nothing handed over, no lane moved
                yield ChangePage(
                    changes, state.dumps(), remaining=self._remaining if orders else None
                )
                lane = after

    async def _customer_changes(
        self, checkpoint: str | None, per_page: int
    ) -> AsyncIterator[ChangePage]:
        state = Checkpoint.loads(checkpoint, lanes=("orders",), platform=PLATFORM, what="customer")
        if "main" in state.lanes:  # an older stored bare date
            state = Checkpoint({"orders": state.lane("main")})
        mode = state.extra.get("mode") or ("orders" if "orders" in state.lanes else "full")
        if mode == "full":
            # Orders modified after the full pass starts are followed up afterwards.
            then = state.lanes.get("then") or await self._latest_order_lane()
            page = int(state.extra.get("page", 1))
            while True:
                result = await self.client.get_page(
                    "/customers", {"orderby": "id", "order": "asc", "role": "all"}, page, per_page
                )
                changes = [self._customer(item) for item in result.items]
                page += 1
                if not result.has_more:
                    state = Checkpoint({"orders": then}, {"mode": "orders"})
                    yield ChangePage(changes, state.dumps())
                    break
                going = Checkpoint({"then": then}, {"mode": "full", "page": page})
                yield ChangePage(changes, going.dumps())
        lane = state.lane("orders")
        async for orders, after in self._walk("/orders", {"status": "any"}, lane, per_page, ORDERS):
            ids = {
                str(o.get("customer_id")) for o in orders if str(o.get("customer_id") or 0) != "0"
            }
            changes = await self._customers_by_id(sorted(ids, key=int))
            yield ChangePage(changes, Checkpoint({"orders": after}, {"mode": "orders"}).dumps())

    async def _latest_order_lane(self) -> Watermark:
        latest = await self.client.get_page(
            "/orders", {"orderby": "modified", "order": "desc", "status": "any"}, 1, 1
        )
        item = latest.items[0] if latest.items else {}
        moment = gmt(item.get("date_modified_gmt"), "latest order")
        if moment is None:
            return Watermark()
        return Watermark(moment, {str(item.get("id")): instant_text(moment)})

    async def _customers_by_id(self, ids: list[str]) -> list[Change]:
        changes: list[Change] = []
        for batch in chunks(ids, 100):
            result = await self.client.get_page(
                "/customers", {"include": ",".join(batch), "role": "all"}, 1, 100
            )
            found = {str(item.get("id")): item for item in result.items}
            for external_id in batch:  # one missing was referenced by an order, deleted since
                item = found.get(external_id)
                gone = Change(EntityType.CUSTOMER, external_id, None, deleted=True)
                changes.append(gone if item is None else self._customer(item))
        return changes

    def _order(self, data: Record, refunds: list[Record]) -> Order:
        context, status_map = self.context.validation_context, self.settings.status_map
        return map_order(data, self.store, refunds, context=context, status_map=status_map)

    def _customer(self, item: Record) -> Change:
        return CUSTOMERS.change(item, functools.partial(map_customer, item, self.store))

    async def _variations(self, data: Record) -> list[Record]:
        if data.get("type") != "variable":
            return []
        return await self._all(f"/products/{data.get('id')}/variations", {})

    async def _all(self, path: str, params: dict[str, Any]) -> list[Record]:
        async def fetch(page: int) -> Page:
            return await self.client.get_page(path, params, page, 100)

        pages = has_more_pages(fetch, lambda page: page.has_more)
        return [item async for page in pages for item in page.items]

    async def _refunds_for(self, orders: list[Record]) -> dict[str, list[Record]]:
        """Full refund objects of the orders whose ``refunds[]`` summary is not empty.

        With ``GET /refunds`` (WooCommerce 9.0+) the refunds of a whole page of orders come
        in one call, asked for by the refund ids the orders list (``include``; core drops the
        ``parent`` filter on that route).  An order whose listed refunds do not all come back
        is read per order, so nothing is silently missing.
        """
        wanted = {
            str(o.get("id")): [str(r.get("id")) for r in o["refunds"] if isinstance(r, dict)]
            for o in orders
            if o.get("refunds")
        }
        if not wanted:
            return {}
        found: dict[str, list[Record]] = {}
        if self._refunds_mode in ("auto", "global"):
            try:
                found = await self._refunds_by_id([rid for ids in wanted.values() for rid in ids])
            except RouteMissing:
                if self._refunds_mode == "global":
                    raise
                log.info(
                    "woocommerce %s: no GET /refunds (WooCommerce before 9.0); "
                    "reading refunds per order",
                    self.store,
                )
                self._refunds_mode = "per_order"
        for oid, refund_ids in wanted.items():
            if sorted(str(r.get("id")) for r in found.get(oid, [])) == sorted(refund_ids):
                continue
            try:
                found[oid] = await self._all(f"/orders/{oid}/refunds", {})
            except NotFound:
                found.pop(oid, None)  # the order went away between the two calls
        return found

    async def _refunds_by_id(self, refund_ids: list[str]) -> dict[str, list[Record]]:
        found: dict[str, list[Record]] = {}
        for batch in chunks(refund_ids, 100):
            for refund in await self._all("/refunds", {"include": ",".join(batch)}):
                found.setdefault(str(refund.get("parent_id")), []).append(refund)
        for refunds in found.values():  # newest first, as the per-order route lists them
            refunds.sort(key=lambda r: (str(r.get("date_created_gmt") or ""), r.get("id") or 0))
            refunds.reverse()
        return found


def order_change(
    data: Record,
    refunds: list[Record],
    store: str,
    context: dict[str, Any] | None = None,
    status_map: Mapping[str, OrderStatus] | None = None,
) -> Change:
    """One order of a page as a Change: mapped, or parked with the reason (the core guard)."""
    build = functools.partial(
        map_order, data, store, refunds, context=context, status_map=status_map
    )
    return ORDERS.change(data, build)
