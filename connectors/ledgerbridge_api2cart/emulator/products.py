"""The emulator's product methods: ``product.list``, ``product.child_item.list`` (a
product's variants) and the catalog writes ``product.update`` / ``product.variant.update``
(their rules in ``catalog``).

Each is ``(state, store, store_key, params, body) -> envelope``; ``app`` dispatches to them.
"""

from __future__ import annotations

from typing import Any

from . import catalog
from .envelope import envelope
from .paging import filtered, page
from .params import stamp_of
from .seed import StoreData
from .state import A2CError, EmulatorState


def product_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    def ids() -> list[str]:
        wanted = params.get("product_ids")
        records = [p for p in store.products.values() if not wanted or p["id"] in wanted.split(",")]
        ordered = filtered(
            records,
            params,
            "modified_at",
            {
                "id": lambda p: p["id"],
                "modified_at": lambda p: (stamp_of(p, "modified_at"), p["id"]),
            },
            "id",
        )
        return [p["id"] for p in ordered]

    return page(
        state,
        "product.list",
        store_key,
        params,
        ids,
        store.products.get,
        "product",
        "products_count",
        "id,name,description,price,categories_ids",
    )


def child_list(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    def ids() -> list[str]:
        wanted = set((params.get("product_ids") or params.get("product_id") or "").split(","))
        return [c["id"] for c in store.children.values() if c["parent_id"] in wanted]

    return page(
        state,
        "product.child_item.list",
        store_key,
        params,
        ids,
        store.children.get,
        "children",
        "total_count",
        "force_all",
    )


def product_update(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    try:
        return envelope(catalog.product_update(store.products, body))
    except catalog.Refused as exc:
        raise A2CError(exc.code, exc.message) from None


def variant_update(
    state: EmulatorState, store: StoreData, store_key: str, params: dict[str, str], body: Any
) -> dict[str, Any]:
    try:
        return envelope(catalog.variant_update(store.products, store.children, body))
    except catalog.Refused as exc:
        raise A2CError(exc.code, exc.message) from None
