"""The Shopify ``Source``: incremental reads, single fetches, bulk backfill, webhooks.

Ties the parts together -- ``client`` (HTTP, throttling, errors), ``queries``
(documents), ``checkpoint`` (what is safe to store), ``bulk`` (long
histories), the mappers (JSON -> canonical) and ``webhooks`` (HMAC).  A record
that cannot be mapped travels as ``Change(error=...)``; platform errors that
stop the read (auth, scope, outage) are raised for the engine to handle by
class.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ledgerbridge.canonical import CanonicalRecord, EntityType
from ledgerbridge.contracts import (
    Change,
    ChangePage,
    ConnectorContext,
    Source,
    WebhookEvent,
    WebhookRequest,
)
from ledgerbridge.contracts.guard import guarded, mapped
from ledgerbridge.errors import NotFound, ValidationFailed
from ledgerbridge.http import complete_connection, connection_items, connection_pages
from ledgerbridge.incremental import Listing, Walk, instant_text, parse_instant

from . import checks, mapping_catalog, mapping_graphql, mapping_rest, queries, webhooks
from .auth import shopify_auth
from .bulk import BulkRunner, Reassembler
from .checkpoint import LANE, Checkpoint
from .client import ShopifyClient
from .mapping_common import PLATFORM, legacy_id, node_id
from .queries import ENTITIES

MAX_QUERY_COST = 1000.0
BULK_PAGE = 250  # changes per page of a bulk backfill
log = logging.getLogger(__name__)


class ShopifySource(Source):
    def __init__(self, context: ConnectorContext) -> None:
        from .plugin import ShopifySecrets, ShopifySettings

        settings = context.settings
        secrets = context.secrets
        assert isinstance(settings, ShopifySettings) and isinstance(secrets, ShopifySecrets)
        self.settings = settings
        self.secrets = secrets
        self.context = context
        self.store = settings.shop
        base_url = settings.base_url or f"https://{settings.shop}.myshopify.com"
        token_url = f"{base_url.rstrip('/')}/admin/oauth/access_token"
        auth = shopify_auth(context, settings, secrets, token_url)
        self.client = ShopifyClient(
            context,
            base_url=base_url,
            api_version=settings.api_version,
            auth=auth,
        )
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self._page: dict[EntityType, int] = {}
        self._currency: str | None = None
        self.bulk_window = 256  # roots held while re-assembling a bulk file

    async def aclose(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ incremental reads

    def _first(self, entity: EntityType, wanted: int) -> int:
        """A page size whose requested cost stays under the single-query and bucket limits."""
        spec = ENTITIES[entity]
        first = min(wanted, self._page.get(entity, wanted))
        per_item = self.client.budget.expected.get(f"{spec.operation}/1")
        if per_item is None:
            return 1  # a one-record first page tells what a record costs; no query is refused
        if per_item:
            ceiling = MAX_QUERY_COST
            if self.client.budget.maximum:
                ceiling = min(ceiling, self.client.budget.maximum)
            first = min(first, max(1, math.floor(0.9 * ceiling / per_item)))
        return max(1, first)

    async def _list(
        self, entity: EntityType, search: str, first: int, after: str | None
    ) -> dict[str, Any]:
        spec = ENTITIES[entity]
        while True:
            try:
                per_item = self.client.budget.expected.get(f"{spec.operation}/1")
                data = await self.client.execute(
                    spec.list_query,
                    {"first": first, "after": after, "query": search},
                    operation=spec.operation,
                    expected_cost=per_item * first if per_item else None,
                )
            except ValidationFailed as exc:
                cost = exc.details.get("cost") if exc.code == "MAX_COST_EXCEEDED" else None
                if not cost or first == 1:
                    raise
                first = max(1, math.floor(first * 0.9 * MAX_QUERY_COST / float(cost)))
                self._page[entity] = first
                continue
            requested = self.client.budget.expected.get(spec.operation)
            if requested:
                self.client.budget.expected[f"{spec.operation}/1"] = requested / max(1, first)
            return dict(data[spec.root])

    async def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        spec = ENTITIES[entity]
        state = Checkpoint.parse(checkpoint)
        search = state.search(self.overlap, day_granularity=spec.day_granularity)
        # customers are searched by whole day: remember that whole window's records
        window = self.overlap + timedelta(days=1) if spec.day_granularity else self.overlap
        walk = Walk(
            Listing(
                entity,
                PLATFORM,
                identify=node_id,
                version=lambda node: instant_text(parse_instant(node["updatedAt"])),
                moment=lambda node: parse_instant(node["updatedAt"]),
                overlap=window,
            )
        )

        async def page(after: str | None) -> dict[str, Any]:
            first = self._first(entity, page_size or self.settings.page_size)
            return await self._list(entity, search, first, after)

        async for connection in connection_pages(page, platform=PLATFORM):
            fresh, lane = walk.take(state.lane(LANE), connection_items(connection))
            state = state.with_lane(LANE, lane)
            changes = [await self._change(entity, node_id(node), node) for node in fresh]
            yield ChangePage(changes, state.dump() if state.since else checkpoint)

    async def _change(
        self, entity: EntityType, ident: str, node: dict[str, Any], *, lists_complete: bool = False
    ) -> Change:
        """Read what the record still needs (platform errors stop the read), then map it
        under the core guard: a record that cannot be mapped is parked, never raised."""
        version = node.get("updatedAt")
        try:
            full = await self._prepare(entity, node, lists_complete=lists_complete)
        except ValidationFailed as exc:
            return Change(entity, ident, version, error=exc)
        currency = self._currency
        return mapped(
            entity,
            ident,
            version,
            lambda: self._map(entity, full, currency),
            platform=PLATFORM,
        )

    async def _prepare(
        self, entity: EntityType, node: dict[str, Any], *, lists_complete: bool = False
    ) -> dict[str, Any]:
        """The node with every nested page read (and the shop currency known, for products)."""
        if entity is EntityType.ORDER:
            return await self.complete_order(node, lists_complete=lists_complete)
        if entity is EntityType.PRODUCT:
            await self.shop_currency()
            if not lists_complete:
                return await self._complete(node, "product", ("variants",))
        return node

    def _map(
        self, entity: EntityType, full: dict[str, Any], currency: str | None
    ) -> CanonicalRecord:
        if entity is EntityType.ORDER:
            return mapping_graphql.order(
                full, self.store, self.context.validation_context, self.settings.status_map
            )
        if entity is EntityType.CUSTOMER:
            return mapping_catalog.customer(full, self.store)
        return mapping_catalog.product(full, self.store, currency or "")

    async def _to_canonical(self, entity: EntityType, node: dict[str, Any]) -> CanonicalRecord:
        full = await self._prepare(entity, node)
        with guarded(PLATFORM, entity, legacy_id(node.get("legacyResourceId") or node.get("id"))):
            return self._map(entity, full, self._currency)

    async def shop_currency(self) -> str:
        if self._currency is None:
            data = await self.client.execute(queries.SHOP, operation="ShopInfo")
            self._currency = str(data["shop"]["currencyCode"])
        return self._currency

    # ------------------------------------------------------------------ nested pages

    async def _complete(
        self, owner: dict[str, Any], kind: str, fields: tuple[str, ...]
    ) -> dict[str, Any]:
        """Follow ``pageInfo`` of nested connections until every page is in ``nodes``."""
        result = dict(owner)
        for name in fields:
            if result.get(name):
                more = self._nested(owner["id"], kind, name)
                result[name] = await complete_connection(result[name], more, platform=PLATFORM)
        return result

    def _nested(
        self, gid: str, kind: str, name: str
    ) -> Callable[[str | None], Awaitable[dict[str, Any]]]:
        """Reads the page of ``kind``'s connection ``name`` after a cursor."""

        async def fetch(after: str | None) -> dict[str, Any]:
            data = await self.client.execute(
                queries.NESTED_PAGES[(kind, name)].query,
                {"id": gid, "first": queries.NESTED_PAGE, "after": after},
                operation=f"Nested:{kind}.{name}",
            )
            holder = data.get(kind)
            if holder is None:
                raise NotFound(
                    f"shopify {kind} {gid} vanished while paging {name}", platform=PLATFORM
                )
            return dict(holder[name])

        return fetch

    async def _order_list(self, gid: str, field: str) -> list[dict[str, Any]]:
        """One of an order's lists read again, longer than its first read could ask for."""
        query, operation = queries.ORDER_LISTS[field]
        data = await self.client.execute(query, {"id": gid}, operation=operation)
        return list((data.get("order") or {}).get(field) or [])

    async def complete_order(
        self, node: dict[str, Any], *, lists_complete: bool = False
    ) -> dict[str, Any]:
        """The order with every line, shipping line, transaction and refund read in full."""
        order = await self._complete(node, "order", ("lineItems", "shippingLines"))
        gid = order["id"]
        if not lists_complete and len(order.get("transactions") or []) >= queries.TRANSACTION_LIST:
            order["transactions"] = await self._order_list(gid, "transactions")
            if len(order["transactions"]) >= queries.TRANSACTION_MAX:
                raise ValidationFailed(
                    f"shopify order {gid} has {queries.TRANSACTION_MAX} or more transactions; "
                    "ledgerbridge reads at most that many and will not post a partial list",
                    platform=PLATFORM,
                )
        if _fulfilments_partial(order.get("fulfillments") or []):
            order["fulfillments"] = await self._order_list(gid, "fulfillments")
            if len(order["fulfillments"]) > queries.FULFILMENT_MAX:
                raise ValidationFailed(
                    f"shopify order {gid} has more than {queries.FULFILMENT_MAX} fulfilments; "
                    "ledgerbridge reads at most that many and will not post a partial list",
                    platform=PLATFORM,
                )
        refs = order.get("refunds") or []
        if not lists_complete and len(refs) >= queries.REFUND_LIST:
            refs = await self._order_list(gid, "refunds")
        refunds = []
        for ref in refs:
            data = await self.client.execute(
                queries.REFUND_BY_ID, {"id": ref["id"]}, operation="RefundById"
            )
            refund = data.get("refund")
            if refund is None:
                raise NotFound(
                    f"shopify refund {ref['id']} of order {gid} not found", platform=PLATFORM
                )
            refunds.append(
                await self._complete(
                    refund,
                    "refund",
                    ("refundLineItems", "refundShippingLines", "orderAdjustments", "transactions"),
                )
            )
        order["refunds"] = refunds
        return order

    # ------------------------------------------------------------------ single records

    async def fetch(self, entity: EntityType, external_id: str) -> CanonicalRecord:
        if entity is EntityType.ORDER and self.settings.fetch_api == "rest":
            return await self._fetch_rest_order(legacy_id(external_id))
        spec = ENTITIES[entity]
        gid = (
            external_id
            if external_id.startswith("gid://")
            else f"gid://shopify/{spec.gid_type}/{external_id}"
        )
        data = await self.client.execute(
            spec.by_id_query, {"id": gid}, operation=f"{spec.gid_type}ById"
        )
        node = data.get(spec.by_id)
        if node is None:
            raise NotFound(
                f"shopify {entity.value} {external_id} does not exist", platform=PLATFORM
            )
        return await self._to_canonical(entity, node)

    async def _fetch_rest_order(self, ident: str) -> CanonicalRecord:
        """One order in the REST shape Shopify's webhook bodies have: ``orders/{id}.json``
        (refunds included) and ``orders/{id}/transactions.json`` -- the payments, which an
        order body does not carry (facts doc §8.3); ``financial_status`` rides on the order.
        Mapped by ``mapping_rest`` under the core guard."""
        try:
            body = await self.client.get_rest(
                f"orders/{ident}.json?status=any", operation="RestOrder"
            )
        except NotFound:
            raise NotFound(f"shopify order {ident} does not exist", platform=PLATFORM) from None
        data = body.get("order")
        if not isinstance(data, dict):
            raise NotFound(f"shopify order {ident} does not exist", platform=PLATFORM)
        listed = await self.client.get_rest(
            f"orders/{ident}/transactions.json", operation="RestOrderTransactions"
        )
        full = {**data, "transactions": listed.get("transactions") or []}
        with guarded(PLATFORM, EntityType.ORDER, ident):
            order = mapping_rest.order(
                full, self.store, self.context.validation_context, self.settings.status_map
            )
        for found in checks.inconsistencies(order):
            log.warning("shopify order %s: %s", ident, found)
        return order

    # ------------------------------------------------------------------ bulk backfill

    async def backfill(
        self, entity: EntityType, since: datetime | None = None
    ) -> AsyncIterator[ChangePage]:
        spec = ENTITIES[entity]
        start = Checkpoint().advanced(LANE, since.astimezone(UTC) if since else None)
        search = start.search(timedelta(0), day_granularity=spec.day_granularity)
        runner = BulkRunner(self.client, self.settings.bulk_poll_seconds)
        op = await runner.run(queries.bulk_query(spec.bulk, search))
        began = datetime.fromisoformat(str(op["createdAt"]).replace("Z", "+00:00"))
        assembler = Reassembler(window=self.bulk_window)
        page: list[Change] = []

        async def emit(roots: list[dict[str, Any]]) -> None:
            for root in roots:
                page.append(await self._change(entity, node_id(root), root, lists_complete=True))

        async for row in runner.rows(op.get("url")):
            await emit(assembler.add(row))
            if len(page) >= BULK_PAGE:
                yield ChangePage(list(page), None)
                page.clear()
        await emit(assembler.finish())
        for parent in sorted(assembler.late):
            # rows arrived after their record left the window: re-read it whole
            ident = legacy_id(parent)
            page.append(await self._refetch_change(entity, ident))
        # Everything changed before the operation started is in the file: incremental
        # reads continue from there (with their usual overlap).
        final = Checkpoint().advanced(LANE, began).dump()
        yield ChangePage(list(page), final)

    async def _refetch_change(self, entity: EntityType, ident: str) -> Change:
        try:
            record = await self.fetch(entity, ident)
        except ValidationFailed as exc:
            return Change(entity, ident, None, error=exc)
        except NotFound:
            return Change(entity, ident, None, deleted=True)
        return Change(entity, ident, getattr(record.source, "version", None), record=record)

    # ------------------------------------------------------------------ webhooks

    def verify_webhook(self, request: WebhookRequest) -> None:
        secrets = [
            s for s in (self.secrets.app_secret, self.secrets.previous_app_secret) if s is not None
        ]
        webhooks.verify(request, secrets)

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent | None:
        return webhooks.parse(request)


def _fulfilments_partial(shipped: list[dict[str, Any]]) -> bool:
    """Whether an order's first fulfilment list may hold less than the order has: the list
    came back full, a fulfilment has more line items than were asked for (a fulfilment
    with more than the re-read's page parks in the mapper), or a bulk row carried ids only."""
    if len(shipped) >= queries.FULFILMENT_LIST:
        return True
    for fulfilment in shipped:
        lines = fulfilment.get("fulfillmentLineItems")
        if lines is None or (lines.get("pageInfo") or {}).get("hasNextPage"):
            return True
    return False


__all__ = ["ENTITIES", "ShopifySource"]
