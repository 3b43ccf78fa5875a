"""GraphQL customers and products -> canonical ``Customer`` and ``Product`` (the catalogue
records; orders are ``mapping_graphql``'s)."""

from __future__ import annotations

from typing import Any

from ledgerbridge.canonical import Customer, Money, Product, ProductVariant
from ledgerbridge.http import connection_items as nodes

from .mapping_common import build, decimal, node_id, source_ref
from .mapping_graphql import address


def customer(data: dict[str, Any], store: str) -> Customer:
    def make() -> Customer:
        return Customer(
            source=source_ref(store, node_id(data), data.get("updatedAt")),
            email=data.get("email"),
            first_name=data.get("firstName"),
            last_name=data.get("lastName"),
            phone=data.get("phone"),
            billing_address=address(data.get("defaultAddress")),
            tax_exempt=bool(data.get("taxExempt", False)),
            extra={
                "tags": list(data.get("tags") or []),
                "state": data.get("state"),
                "note": data.get("note"),
            },
        )

    return build("customer", str(data.get("id")), make)


def product(data: dict[str, Any], store: str, currency: str) -> Product:
    def make() -> Product:
        return Product(
            source=source_ref(store, node_id(data), data.get("updatedAt")),
            title=data["title"],
            product_type=data.get("productType") or None,
            vendor=data.get("vendor") or None,
            status=(data.get("status") or "").lower() or None,
            variants=tuple(
                ProductVariant(
                    external_id=node_id(v),
                    sku=v.get("sku") or None,
                    title=v.get("title"),
                    price=Money(amount=decimal(v["price"], "variant.price"), currency=currency)
                    if v.get("price") is not None
                    else None,
                    taxable=bool(v.get("taxable", True)),
                    barcode=v.get("barcode") or None,
                )
                for v in nodes(data.get("variants"))
            ),
            extra={"tags": list(data.get("tags") or [])},
        )

    return build("product", str(data.get("id")), make)
