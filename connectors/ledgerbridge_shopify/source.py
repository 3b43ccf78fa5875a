"""The Shopify ``Source``: incremental reads, single fetches, bulk backfill, webhooks.

A record that cannot be mapped travels as ``Change(error=...)``; platform errors that stop
the read (auth, scope, outage) are raised for the engine to handle by class.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator
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

        settings, secrets = context.settings, context.secrets
        assert isinstance(settings, ShopifySettings) and isinstance(secrets, ShopifySecrets)
        self.settings = settings
        self.secrets = secrets
        self.context = context
        self.store = settings.shop
        base_url = settings.base_url or f"https://{settings.shop}.myshopify.com"
        token_url = f"{base_url.rstrip('/')}/admin/oauth/access_token"
        auth = shopify_auth(context, settings, secrets, token_url)
        self.client = ShopifyClient(context, base_url, settings.api_version, auth)
        self.overlap = timedelta(seconds=settings.overlap_seconds)
        self._page: dict[EntityType, int] = {}
        self._currency: str | None = None
        self.bulk_window = 256  # roots held while re-assembling a bulk file

    async def aclose(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ incremental reads

    async def _list(
        self, entity: EntityType, search: str, wanted: int, after: str | None
    ) -> dict[str, Any]:
        """One page of the changed records: as many as keep the requested cost under the
        single-query and bucket limits -- one until a page told what a record costs, so no
        query is refused; a page still too expensive is asked again smaller, kept for the read."""
        spec, budget = ENTITIES[entity], self.client.budget
        per_item = budget.expected.get(f"{spec.operation}/1")
        first = 1 if per_item is None else min(wanted, self._page.get(entity, wanted))
        if per_item:
            ceiling = min(MAX_QUERY_COST, budget.maximum or MAX_QUERY_COST)
            first = min(first, math.floor(0.9 * ceiling / per_item))
        first = max(1, first)
        while True:
            try:
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
            requested = budget.expected.get(spec.operation)
            if requested:
                budget.expected[f"{spec.operation}/1"] = requested / max(1, first)
            return dict(data[spec.root])

    async def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        spec = ENTITIES[entity]
        state = Checkpoint.loads(checkpoint)
        search = state.search(self.overlap, day_granularity=spec.day_granularity)
        # customers are searched by whole day: remember that whole window's records
        window = self.overlap + timedelta(days=1) if spec.day_granularity else self.overlap
        walk = Walk(
            Listing(
                entity,
                PLATFORM,
                identify=node_id,
                version=lambda node: instant_text(parse_instant(node["updatedAt"])),
                overlap=window,
            )
        )

        async def page(after: str | None) -> dict[str, Any]:
            return await self._list(entity, search, page_size or self.settings.page_size, after)

        async for connection in connection_pages(page, platform=PLATFORM):
            fresh, lane = walk.take(state.lane(LANE), connection_items(connection))
            state = state.with_lane(LANE, lane)
            changes = [await self._change(entity, node) for node in fresh]
            yield ChangePage(changes, state.dumps() if state.since else checkpoint)

    async def _change(
        self, entity: EntityType, node: dict[str, Any], *, lists_complete: bool = False
    ) -> Change:
        """Read what the record still needs (platform errors stop the read), then map it
        under the core guard: a record that cannot be mapped is parked, never raised."""
        ident, version = node_id(node), node.get("updatedAt")
        try:
            full = await self._prepare(entity, node, lists_complete=lists_complete)
        except ValidationFailed as exc:
            return Change(entity, ident, version, error=exc)
        return mapped(entity, ident, version, lambda: self._map(entity, full), platform=PLATFORM)

    async def _prepare(
        self, entity: EntityType, node: dict[str, Any], *, lists_complete: bool = False
    ) -> dict[str, Any]:
        """The node with every nested page read (and the shop currency known, for products)."""
        if entity is EntityType.ORDER:
            return await self.complete_order(node, lists_complete=lists_complete)
        if entity is EntityType.PRODUCT:
            await self.shop_currency()
            if not lists_complete:
                return await self._complete(node, "product")
        return node

    def _map(self, entity: EntityType, full: dict[str, Any]) -> CanonicalRecord:
        if entity is EntityType.ORDER:
            return mapping_graphql.order(
                full, self.store, self.context.validation_context, self.settings.status_map
            )
        if entity is EntityType.CUSTOMER:
            return mapping_catalog.customer(full, self.store)
        return mapping_catalog.product(full, self.store, self._currency or "")

    async def shop_currency(self) -> str:
        if self._currency is None:
            data = await self.client.execute(queries.SHOP, operation="ShopInfo")
            self._currency = str(data["shop"]["currencyCode"])
        return self._currency

    # ------------------------------------------------------------------ nested pages

    async def _complete(self, owner: dict[str, Any], kind: str) -> dict[str, Any]:
        """Follow ``pageInfo`` of ``kind``'s nested connections (each one that has a follow-up
        query) until every page is in ``nodes``."""
        gid, result = owner["id"], dict(owner)
        for (of, name), query in queries.NESTED_PAGES.items():
            if of != kind or not result.get(name):
                continue

            async def after(
                cursor: str | None, name: str = name, query: str = query
            ) -> dict[str, Any]:
                data = await self.client.execute(
                    query,
                    {"id": gid, "first": queries.NESTED_PAGE, "after": cursor},
                    operation=f"Nested:{kind}.{name}",
                )
                if data.get(kind) is None:
                    raise NotFound(
                        f"shopify {kind} {gid} vanished while paging {name}", platform=PLATFORM
                    )
                return dict(data[kind][name])

            result[name] = await complete_connection(result[name], after, platform=PLATFORM)
        return result

    async def _order_list(self, gid: str, field: str) -> list[dict[str, Any]]:
        """One of an order's lists read again, longer than its first read could ask for."""
        query, operation = queries.ORDER_LISTS[field]
        data = await self.client.execute(query, {"id": gid}, operation=operation)
        return list((data.get("order") or {}).get(field) or [])

    async def complete_order(
        self, node: dict[str, Any], *, lists_complete: bool = False
    ) -> dict[str, Any]:
        """The order with every line, shipping line, transaction and refund read in full."""
        order = await self._complete(node, "order")
        gid = order["id"]
        if not lists_complete and len(order.get("transactions") or []) >= queries.TRANSACTION_LIST:
            order["transactions"] = await self._order_list(gid, "transactions")
            if len(order["transactions"]) >= queries.TRANSACTION_MAX:
                raise _too_many(gid, f"{queries.TRANSACTION_MAX} or more transactions")
        if _fulfilments_partial(order.get("fulfillments") or []):
            order["fulfillments"] = await self._order_list(gid, "fulfillments")
            if len(order["fulfillments"]) > queries.FULFILMENT_MAX:
                raise _too_many(gid, f"more than {queries.FULFILMENT_MAX} fulfilments")
        refs = order.get("refunds") or []
        if not lists_complete and len(refs) >= queries.REFUND_LIST:
            refs = await self._order_list(gid, "refunds")
        refunds = []
        for ref in refs:
            data = await self.client.execute(
                queries.REFUND_BY_ID, {"id": ref["id"]}, operation="RefundById"
            )
            if data.get("refund") is None:
                raise NotFound(
                    f"shopify refund {ref['id']} of order {gid} not found", platform=PLATFORM
                )
            refunds.append(await self._complete(data["refund"], "refund"))
        order["refunds"] = refunds
        return order

    # ------------------------------------------------------------------ single records

    async def fetch(self, entity: EntityType, external_id: str) -> CanonicalRecord:
        if entity is EntityType.ORDER and self.settings.fetch_api == "rest":
            return await self._fetch_rest_order(legacy_id(external_id))
        spec = ENTITIES[entity]
        gid = external_id
        if not gid.startswith("gid://"):
            gid = f"gid://shopify/{spec.gid_type}/{external_id}"
        data = await self.client.execute(
            spec.by_id_query, {"id": gid}, operation=f"{spec.gid_type}ById"
        )
        node = data.get(spec.by_id)
        if node is None:
            raise NotFound(
                f"shopify {entity.value} {external_id} does not exist", platform=PLATFORM
            )
        full = await self._prepare(entity, node)
        with guarded(PLATFORM, entity, legacy_id(node.get("legacyResourceId") or node.get("id"))):
            return self._map(entity, full)

    async def _fetch_rest_order(self, ident: str) -> CanonicalRecord:
        """One order in the REST shape Shopify's webhook bodies have: ``orders/{id}.json``
        (refunds included) and ``orders/{id}/transactions.json`` -- the payments, which an
        order body does not carry (facts doc §8.3); ``financial_status`` rides on the order."""
        try:
            path = f"orders/{ident}.json?status=any"
            data = (await self.client.get_rest(path, operation="RestOrder")).get("order")
        except NotFound:
            data = None
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
                page.append(await self._change(entity, root, lists_complete=True))

        async for row in runner.rows(op.get("url")):
            await emit(assembler.add(row))
            if len(page) >= BULK_PAGE:
                yield ChangePage(list(page), None)
                page.clear()
        await emit(assembler.finish())
        for parent in sorted(assembler.late):  # rows came after their record left the window
            page.append(await self._refetch_change(entity, legacy_id(parent)))
        # Everything changed before the operation started is in the file: incremental
        # reads continue from there (with their usual overlap).
        final = Checkpoint().advanced(LANE, began).dumps()
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
        webhooks.verify(request, [self.secrets.app_secret, self.secrets.previous_app_secret])

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent | None:
        return webhooks.parse(request)


def _too_many(gid: str, has: str) -> ValidationFailed:
    """An order whose list is longer than ledgerbridge reads parks instead of posting part."""
    return ValidationFailed(
        f"shopify order {gid} has {has}; "
        "ledgerbridge reads at most that many and will not post a partial list",
        platform=PLATFORM,
    )


def _fulfilments_partial(shipped: list[dict[str, Any]]) -> bool:
    """Whether an order's first fulfilment list may hold less than the order has: the list
    came back full, a fulfilment has more line items than were asked for (a fulfilment
    with more than the re-read's page parks in the mapper), or a bulk row carried ids only."""
    return len(shipped) >= queries.FULFILMENT_LIST or any(
        (lines := fulfilment.get("fulfillmentLineItems")) is None
        or (lines.get("pageInfo") or {}).get("hasNextPage")
        for fulfilment in shipped
    )
