"""The API2Cart ``Source``: incremental reads of orders, customers and products.

Reads go oldest first (``sort_by=modified_at``, ``sort_direction=asc``) from the checkpoint's
watermark, asking for every field explicitly (the default ``params`` omit currency, dates and
refunds) and sending ``rounding_precision`` so amounts are rounded once.  A record that cannot
be mapped travels as ``Change(error=...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
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
from ledgerbridge.contracts.guard import guarded, mapped, record_id, record_version
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import NotFound, ValidationFailed
from ledgerbridge.http.signatures import verify_path_token
from ledgerbridge.incremental import Listing, poll

from . import shipments, transactions
from .catalog import map_customer, map_product
from .checkpoint import Checkpoint, filter_value
from .client import Api2CartClient, CursorPaginator, Params
from .envelope import PLATFORM
from .fields import timestamp, timestamp_text
from .mapper import StoreScope, map_order
from .settings import Api2CartSecrets, Api2CartSettings
from .statuses import StatusBook
from .webhooks import parse_delivery


def listed(count_key: str, items_key: str, fields: str) -> str:
    """The ``response_fields`` of a list method: its envelope, ``result``'s count and items."""
    return (
        f"{{return_code,return_message,pagination,result{{{count_key},{items_key}{{{fields}}}}}}}"
    )


_ORDER_FIELDS = (
    "id,order_id,customer,create_at,modified_at,currency,shipping_address,billing_address,"
    "payment_method,shipping_method,status,totals,total,discounts,order_products,bundles,"
    "store_id,refunds,comment,order_details_url,additional_fields,custom_fields"
)
ORDER_LIST_FIELDS = listed("orders_count", "order", _ORDER_FIELDS)
ORDER_INFO_FIELDS = "{return_code,return_message,result{" + _ORDER_FIELDS + "}}"
CUSTOMER_FIELDS = listed(
    "customers_count",
    "customer",
    "id,email,first_name,last_name,phone,company,created_time,modified_time,status,is_guest,"
    "group,address_book,additional_fields,custom_fields",
)
PRODUCT_FIELDS = listed(
    "products_count",
    "product",
    "id,type,u_model,u_sku,name,price,avail_sale,u_brand,create_at,modified_at,"
    "additional_fields,custom_fields",
)
CHILD_FIELDS = listed(
    "total_count", "children", "id,parent_id,sku,name,default_price,upc,ean,gtin,modified_time"
)


# entity -> its list method, the list inside ``result``, the field it is sorted and filtered on
LISTS = {
    EntityType.ORDER: ("order.list", "order", "modified_at"),
    EntityType.CUSTOMER: ("customer.list", "customer", "modified_time"),
    EntityType.PRODUCT: ("product.list", "product", "modified_at"),
}


class Api2CartSource(Source):
    """One connected store (one ``x-store-key``) under the operator's API2Cart account."""

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context
        self.settings, self.secrets = context.as_models(Api2CartSettings, Api2CartSecrets)
        self.store = self.settings.store_label or context.connection_id
        self.client = Api2CartClient(context, self.settings, self.secrets)
        self._statuses: StatusBook | None = None

    async def aclose(self) -> None:
        await self.client.aclose()

    async def status_book(self) -> StatusBook:
        """The store's statuses (``order.status.list``), read once per source."""
        if self._statuses is None:
            query = {"allow_user_defined_order_statuses": True}
            try:
                envelope = await self.client.get("order.status.list", query)
                listed = (envelope.result or {}).get("cart_order_statuses") or []
            except ValidationFailed:
                # A cart that cannot list its statuses: only ``status_map`` is trusted, so
                # every other status stays UNKNOWN (not posted, flagged) -- never guessed.
                listed = []
            self._statuses = StatusBook.from_list(listed, self.settings.status_map)
        return self._statuses

    async def _scope(self) -> StoreScope:
        return StoreScope(self.store, self.settings.cart, await self.status_book())

    def _orders(self, fields: str) -> dict[str, str | int | bool]:
        """Every field asked for, amounts rounded once, user-defined statuses shown."""
        return {
            "response_fields": fields,
            "rounding_precision": self.settings.rounding_precision,
            "allow_user_defined_order_statuses": True,
        }

    def changes(
        self, entity: EntityType, checkpoint: str | None, *, page_size: int | None = None
    ) -> AsyncIterator[ChangePage]:
        count = min(page_size or self.settings.page_size, 250)
        start = Checkpoint.loads(checkpoint)
        if entity is EntityType.ORDER:
            return self._order_changes(start, count)
        if entity is EntityType.CUSTOMER:
            params: Params = {"response_fields": CUSTOMER_FIELDS, "include_guests": True}
            return self.walk(entity, params, start, count, self._customer_changes)
        params = {"response_fields": PRODUCT_FIELDS}
        return self.walk(entity, params, start, count, self._product_changes)

    async def _order_changes(self, mark: Checkpoint, count: int) -> AsyncIterator[ChangePage]:
        scope = await self._scope()

        async def live(items: list[dict[str, Any]]) -> list[Change]:
            items = [await self._with_shipments(item) for item in items]
            context = self.context.validation_context
            return [order_change(item, scope, context) for item in items]

        async for page in self.walk(
            EntityType.ORDER, self._orders(ORDER_LIST_FIELDS), mark, count, live
        ):
            mark = Checkpoint.loads(page.checkpoint)
            yield page
        deleted: Params = {"response_fields": ORDER_LIST_FIELDS, "is_deleted": True}
        async for page in self.walk(
            EntityType.ORDER, deleted, mark, count, self._deleted_page, phase="deleted"
        ):
            yield page

    def walk(
        self,
        entity: EntityType,
        params: Mapping[str, str | int | bool],
        start: Checkpoint,
        count: int,
        build: Callable[[list[dict[str, Any]]], Awaitable[list[Change]]],
        *,
        phase: str = "modified",
    ) -> AsyncIterator[ChangePage]:
        method, items_key, stamp_field = LISTS[entity]
        listing = Listing(
            entity,
            PLATFORM,
            identify=lambda item: item.get("id") or item.get("order_id"),
            version=lambda item: timestamp_text(item.get(stamp_field)),
            moment=lambda item: timestamp(item.get(stamp_field), method),
            overlap=self.settings.modified_overlap,
        )
        # ``result.orders_count`` and its kin count the query's items on all pages (progress).
        pager = CursorPaginator(self.client, method, {}, items_key, f"{items_key}s_count")

        def pages(since: datetime | None) -> AsyncIterator[list[dict[str, Any]]]:
            query = {**params, "sort_by": stamp_field, "sort_direction": "asc", "count": count}
            if since is not None:  # already the lane's mark less the overlap; in the filter's zone
                tz = self.settings.filter_timezone
                query["modified_from"] = filter_value(since, timedelta(0), tz)
            pager.params = query
            return pager.pages()

        # Handed over by this walk, or by the last one inside the overlap window, is skipped.
        return poll(listing, start, phase, pages, build_page=build, matched=lambda: pager.count)

    async def _with_shipments(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The order with its transactions (``read_transactions``: one call per order) and
        its shipments (``read_shipments``: one more)."""
        order_id = text(raw.get("order_id")) or text(raw.get("id"))
        if order_id is None:
            return raw
        if self.settings.read_transactions:
            query: Params = {"order_ids": order_id, "count": 250, "params": transactions.PARAMS}
            pager = CursorPaginator(self.client, transactions.METHOD, query, transactions.ITEMS)
            kinds = dict(self.settings.transaction_kinds)
            raw = {**raw, transactions.READ: await pager.all(), transactions.KINDS: kinds}
        if self.settings.read_shipments:
            pager = CursorPaginator(
                self.client, shipments.METHOD, {"order_id": order_id}, "shipment"
            )
            raw = {**raw, shipments.SHIPPED: await pager.all()}
        return raw

    async def _deleted_page(self, items: list[dict[str, Any]]) -> list[Change]:
        return [
            Change(
                entity=EntityType.ORDER,
                external_id=str(text(item.get("order_id")) or text(item.get("id"))),
                version=timestamp_text(item.get("modified_at")),
                deleted=True,
            )
            for item in items
        ]

    async def _customer_changes(self, items: list[dict[str, Any]]) -> list[Change]:
        build = partial(map_customer, store=self.store)
        return [_guarded(EntityType.CUSTOMER, item, build) for item in items]

    async def _product_changes(self, items: list[dict[str, Any]]) -> list[Change]:
        children = await self.children([str(i.get("id")) for i in items if i.get("id")])

        def build(raw: dict[str, Any]) -> CanonicalRecord:
            found = children.of(raw.get("id"))
            return map_product(raw, found, self.store, self.settings.currency)

        return [_guarded(EntityType.PRODUCT, item, build) for item in items]

    async def children(
        self,
        product_ids: Sequence[str],
        fields: str = CHILD_FIELDS,
        on_page: Callable[[], None] = lambda: None,
    ) -> Children:
        """Children of a page of products (``product.child_item.list``, not the deprecated
        ``product.variant.list``), grouped by parent; ``on_page`` hears of each page read."""
        grouped = Children()
        if not product_ids:
            return grouped
        params: Params = {
            "product_ids": ",".join(product_ids),
            "response_fields": fields,
            "count": 250,
        }
        pager = CursorPaginator(self.client, "product.child_item.list", params, "children")
        async for page in pager.pages():
            on_page()
            for child in page:
                if isinstance(child, dict):
                    grouped.setdefault(str(child.get("parent_id")), []).append(child)
                else:
                    grouped.malformed.append(f"children[{grouped.seen}] ({type(child).__name__})")
                grouped.seen += 1
        return grouped

    async def fetch(self, entity: EntityType, external_id: str) -> CanonicalRecord:
        if entity is EntityType.ORDER:
            scope = await self._scope()
            query = {"order_id": external_id, **self._orders(ORDER_INFO_FIELDS)}
            envelope = await self.client.get("order.info", query)
            if not isinstance(envelope.result, dict) or not envelope.result:
                raise NotFound(f"API2Cart order {external_id} not found", platform=PLATFORM)
            raw = await self._with_shipments(envelope.result)
            with guarded(PLATFORM, entity, external_id):
                return map_order(raw, scope, self.context.validation_context)
        if entity is EntityType.CUSTOMER:
            params: Params = {"ids": external_id, "include_guests": True}
            customer = await self._first(entity, external_id, params, CUSTOMER_FIELDS)
            with guarded(PLATFORM, entity, external_id):
                return map_customer(customer, self.store)
        params = {"product_ids": external_id}
        product = await self._first(entity, external_id, params, PRODUCT_FIELDS)
        children = await self.children([external_id])
        with guarded(PLATFORM, entity, external_id):
            return map_product(
                product, children.of(external_id), self.store, self.settings.currency
            )

    async def _first(
        self, entity: EntityType, external_id: str, params: Params, fields: str
    ) -> dict[str, Any]:
        method, key, _ = LISTS[entity]
        envelope = await self.client.get(method, {**params, "response_fields": fields})
        found = (envelope.result or {}).get(key) or []
        if not found:
            raise NotFound(f"API2Cart {key} {external_id} not found", platform=PLATFORM)
        return found[0]  # type: ignore[no-any-return]

    def verify_webhook(self, request: WebhookRequest) -> None:
        """Only a delivery whose URL path ends with the connection's token (``webhooks.py``)."""
        missing = "API2Cart webhooks need secrets.webhook_token (API2Cart does not sign deliveries)"
        token = self.secrets.webhook_token
        verify_path_token(request.path, token, what="API2Cart webhook", missing=missing)

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent | None:
        return parse_delivery(request)


class Children(dict[str, list[dict[str, Any]]]):
    """A page of products' children, by parent id.

    A child that is not an object names no parent, so it cannot be set aside on its own:
    every product of the page is refused (parked, naming the entry) instead of being read
    without a child it may have -- a catalog would take the missing one for a deleted variant.
    """

    def __init__(self) -> None:
        super().__init__()
        self.malformed: list[str] = []
        self.seen = 0

    def of(self, product_id: Any) -> list[dict[str, Any]]:
        """The product's children; raises ``ValidationFailed`` when the answer held a bad one."""
        if self.malformed:
            where = f"product.child_item.list {self.malformed[0]}"
            raise ValidationFailed(
                f"API2Cart product {product_id}: {where} is not an object; the children of "
                "this page cannot be told apart",
                platform=PLATFORM,
                details={"field": where},
            )
        return self.get(str(product_id), [])


def _guarded(
    entity: EntityType, raw: dict[str, Any], build: Callable[[dict[str, Any]], CanonicalRecord]
) -> Change:
    """The record as a Change -- or the reason it could not be read (the core guard)."""
    order_id = raw.get("order_id")
    external_id = record_id(order_id if order_id not in (None, "") else raw.get("id"))
    stamp = raw.get("modified_at") or raw.get("modified_time")
    version = record_version(stamp.get("value") if isinstance(stamp, dict) else stamp)
    return mapped(entity, external_id, version, lambda: build(raw), platform=PLATFORM)


def order_change(
    raw: dict[str, Any], scope: StoreScope, context: dict[str, Any] | None = None
) -> Change:
    """One order of a page as a Change: mapped, or parked with the reason."""
    return _guarded(EntityType.ORDER, raw, lambda item: map_order(item, scope, context))
