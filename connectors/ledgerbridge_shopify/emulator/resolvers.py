"""Field resolution for the emulator's graphql-core schema.

Root fields read the shop; a field whose type is a ``...Connection`` pages a
stored list with ``first``/``after``; list fields honour ``first``.  Bulk
operations run the same resolvers with ``context["bulk"]`` set: pagination
arguments are ignored there, as on Shopify.
"""

from __future__ import annotations

import base64
from typing import Any

from graphql import GraphQLError, get_named_type

from . import catalog
from .shop import Resource, Search, ShopData, decode_cursor, encode_cursor

MAX_PAGE = 250
Info = Any  # graphql-core GraphQLResolveInfo


def _gid_number(value: str, kind: str) -> int:
    prefix = f"gid://shopify/{kind}/"
    if not str(value).startswith(prefix):
        raise GraphQLError(
            f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"}
        )
    try:
        return int(str(value)[len(prefix) :])
    except ValueError:
        raise GraphQLError(f"Invalid global id '{value}'") from None


def _page_size(args: dict[str, Any], bulk: bool) -> int:
    if bulk:
        return 1 << 30
    first = args.get("first")
    if first is None:
        raise GraphQLError(
            "you must provide one of first or last", extensions={"code": "BAD_REQUEST"}
        )
    if first > MAX_PAGE or first < 0:
        raise GraphQLError(
            f"The first argument must be between 0 and {MAX_PAGE}",
            extensions={"code": "BAD_REQUEST"},
        )
    return int(first)


def _offset_cursor(n: int) -> str:
    return base64.b64encode(f"off:{n}".encode()).decode()


def _nested_connection(items: list[Any], args: dict[str, Any], bulk: bool) -> dict[str, Any]:
    start = 0
    if args.get("after"):
        try:
            start = int(base64.b64decode(args["after"]).decode().split(":", 1)[1]) + 1
        except (ValueError, IndexError):
            raise GraphQLError(f"Invalid cursor {args['after']!r}") from None
    size = _page_size(args, bulk)
    page = items[start : start + size]
    edges = [{"cursor": _offset_cursor(start + i), "node": n} for i, n in enumerate(page)]
    return {
        "edges": edges,
        "nodes": page,
        "pageInfo": {
            "hasNextPage": start + size < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


class Resolver:
    def __init__(self, shop: ShopData) -> None:
        self.shop = shop

    def __call__(self, source: Any, info: Info, **args: Any) -> Any:
        name = info.field_name
        if source is None or info.parent_type.name in ("QueryRoot", "Mutation"):
            method = getattr(self, f"root_{name}", None)
            if method is None:
                raise GraphQLError(f"emulator does not implement {name}")
            return method(info, **args)
        value = source.get(name) if isinstance(source, dict) else getattr(source, name, None)
        named = get_named_type(info.return_type)
        bulk = bool(info.context.get("bulk"))
        if named.name.endswith("Connection") and isinstance(value, list):
            if name == "shippingLines" and args.get("includeRemovals") is False:
                value = [v for v in value if not v.get("isRemoved")]
            return _nested_connection(value, args, bulk)
        if isinstance(value, list) and args.get("first") is not None and not bulk:
            return value[: args["first"]]
        return value

    # ---------------------------------------------------------------- roots

    def _scopes(self, info: Info) -> set[str]:
        return set(info.context.get("scopes", ()))

    def _root_connection(
        self,
        info: Info,
        resource: Resource,
        args: dict[str, Any],
        *,
        day_granularity: bool = False,
        visible: Any = None,
    ) -> dict[str, Any]:
        bulk = bool(info.context.get("bulk"))
        if args.get("sortKey") not in (None, "UPDATED_AT"):
            raise GraphQLError("the emulator sorts by UPDATED_AT only")
        search = Search.parse(args.get("query"), day_granularity=day_granularity)
        if bulk:
            after, limit = info.context.get("bulk_after"), int(info.context["bulk_limit"])
        else:
            after = decode_cursor(args["after"]) if args.get("after") else None
            limit = _page_size(args, bulk)
        nodes: list[dict[str, Any]] = []
        keys: list[tuple[str, int]] = []
        has_next = False
        for key in resource.keys(search, after, bool(args.get("reverse"))):
            record = resource.get(key[1])
            if record is None or (visible is not None and not visible(record)):
                continue
            if len(nodes) == limit:
                has_next = True
                break
            nodes.append(record)
            keys.append(key)
        if bulk:
            info.context["bulk_after"] = keys[-1] if keys else after
            info.context["bulk_more"] = has_next
        edges = [{"cursor": encode_cursor(k), "node": n} for k, n in zip(keys, nodes, strict=True)]
        return {
            "edges": edges,
            "nodes": nodes,
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": after is not None,
                "startCursor": edges[0]["cursor"] if edges else None,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        }

    def root_shop(self, info: Info) -> dict[str, Any]:
        return {
            "id": "gid://shopify/Shop/1",
            "name": info.context.get("shop_name", "Emulated shop"),
            "myshopifyDomain": info.context.get("shop_domain", "emulated.myshopify.com"),
            "currencyCode": self.shop.config.currency,
            "taxesIncluded": False,
        }

    def root_orders(self, info: Info, **args: Any) -> dict[str, Any]:
        scopes = self._scopes(info)
        if "read_orders" not in scopes:
            raise _access_denied("orders", "read_orders")
        # Without read_all_orders Shopify silently leaves out orders older than 60 days.
        visible = None if "read_all_orders" in scopes else (lambda o: not self.shop.order_is_old(o))
        return self._root_connection(info, self.shop.orders, args, visible=visible)

    def root_order(self, info: Info, id: str) -> dict[str, Any] | None:
        scopes = self._scopes(info)
        if "read_orders" not in scopes:
            raise _access_denied("order", "read_orders")
        order = self.shop.orders.get(_gid_number(id, "Order"))
        if order is not None and self.shop.order_is_old(order) and "read_all_orders" not in scopes:
            raise _access_denied("order", "read_all_orders")
        return order

    def root_refund(self, info: Info, id: str) -> dict[str, Any] | None:
        if "read_orders" not in self._scopes(info):
            raise _access_denied("refund", "read_orders")
        return self.shop.refund(_gid_number(id, "Refund"))

    def root_customers(self, info: Info, **args: Any) -> dict[str, Any]:
        if "read_customers" not in self._scopes(info):
            raise _access_denied("customers", "read_customers")
        return self._root_connection(info, self.shop.customers, args, day_granularity=True)

    def root_customer(self, info: Info, id: str) -> dict[str, Any] | None:
        if "read_customers" not in self._scopes(info):
            raise _access_denied("customer", "read_customers")
        return self.shop.customers.get(_gid_number(id, "Customer"))

    def root_products(self, info: Info, **args: Any) -> dict[str, Any]:
        if "read_products" not in self._scopes(info):
            raise _access_denied("products", "read_products")
        return self._root_connection(info, self.shop.products, args)

    def root_product(self, info: Info, id: str) -> dict[str, Any] | None:
        if "read_products" not in self._scopes(info):
            raise _access_denied("product", "read_products")
        return self.shop.products.get(_gid_number(id, "Product"))

    def root_currentBulkOperation(
        self,
        info: Info,
        type: str = "QUERY",
    ) -> dict[str, Any] | None:
        op = info.context["bulk_ops"].current()
        return op.as_graphql() if op else None

    def root_bulkOperationRunQuery(self, info: Info, query: str) -> dict[str, Any]:
        payload: dict[str, Any] = info.context["bulk_ops"].start(query, info.context)
        return payload

    # catalog writes (emulator/catalog.py)

    def root_productVariantsBulkUpdate(
        self, info: Info, productId: str, variants: list[dict[str, Any]],
        allowPartialUpdates: bool = False, **_: Any,
    ) -> dict[str, Any]:  # fmt: skip
        if "write_products" not in self._scopes(info):
            raise _access_denied("productVariantsBulkUpdate", "write_products")
        return catalog.variants_bulk_update(self.shop, productId, variants, allowPartialUpdates)

    def root_inventorySetQuantities(self, info: Info, input: dict[str, Any]) -> dict[str, Any]:
        if "write_inventory" not in self._scopes(info):
            raise _access_denied("inventorySetQuantities", "write_inventory")
        return catalog.set_quantities(self.shop, input)

    def root_productUpdate(self, info: Info, product: dict[str, Any]) -> dict[str, Any]:
        if "write_products" not in self._scopes(info):
            raise _access_denied("productUpdate", "write_products")
        return catalog.product_update(self.shop, product)


def _access_denied(field: str, scope: str) -> GraphQLError:
    return GraphQLError(
        f"Access denied for {field} field. Required access: `{scope}` access scope.",
        extensions={
            "code": "ACCESS_DENIED",
            "documentation": "https://shopify.dev/api/usage/access-scopes",
            "requiredAccess": f"`{scope}` access scope.",
        },
    )
