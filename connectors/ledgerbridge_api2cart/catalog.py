"""API2Cart ``Customer``, ``Product`` and ``Child`` JSON -> canonical (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledgerbridge.canonical import Customer, Money, Product, ProductVariant, SourceRef
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM
from .fields import address, amount, timestamp, timestamp_text


def sku_of(raw: Mapping[str, Any]) -> str | None:
    return text(raw.get("sku")) or text(raw.get("u_sku")) or text(raw.get("u_model"))


def barcode_of(raw: Mapping[str, Any]) -> str | None:
    return text(raw.get("upc")) or text(raw.get("ean")) or text(raw.get("gtin"))


def price_of(raw: Mapping[str, Any]) -> Any:
    """A child's ``default_price``, a product's ``price``."""
    return raw.get("default_price", raw.get("price"))


def _id(raw: Mapping[str, Any], what: str) -> str:
    found = text(raw.get("id"))
    if found is None:
        raise ValidationFailed(f"API2Cart {what} without id", platform=PLATFORM)
    return found


def _source(
    raw: Mapping[str, Any], external_id: str, store: str, stamp: str, where: str
) -> SourceRef:
    """The record's reference; its ``stamp`` field (an ``A2CDateTime``) is its version."""
    return SourceRef(
        platform=PLATFORM,
        store=store,
        external_id=external_id,
        version=timestamp_text(raw.get(stamp)),
        updated_at=timestamp(raw.get(stamp), where),
    )


def _extra(raw: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    fields = {k: raw.get(k) or {} for k in ("additional_fields", "custom_fields")}
    return {**more, **fields}


def map_customer(raw: Mapping[str, Any], store: str) -> Customer:
    customer_id = _id(raw, "customer")
    email = text(raw.get("email"))
    book = [a for a in raw.get("address_book") or [] if isinstance(a, dict)]
    billing = next((a for a in book if a.get("type") == "billing"), None) or next(
        (a for a in book if a.get("default")), None
    )
    shipping = next((a for a in book if a.get("type") == "shipping"), None)
    return Customer(
        source=_source(raw, customer_id, store, "modified_time", f"customer {customer_id}"),
        email=email,
        first_name=text(raw.get("first_name")),
        last_name=text(raw.get("last_name")),
        company=text(raw.get("company")),
        phone=text(raw.get("phone")),
        billing_address=address(billing, email),
        shipping_address=address(shipping),
        is_guest=bool(raw.get("is_guest")),
        extra=_extra(raw, status=raw.get("status"), group=raw.get("group") or []),
    )


def _variant(raw: Mapping[str, Any], currency: str | None, where: str) -> ProductVariant:
    price = amount(price_of(raw), f"{where}.price")
    return ProductVariant(
        external_id=str(raw.get("id")),
        sku=sku_of(raw),
        title=text(raw.get("name")),
        price=Money(amount=price, currency=currency) if price is not None and currency else None,
        barcode=barcode_of(raw),
    )


def map_product(
    raw: Mapping[str, Any], children: Sequence[Mapping[str, Any]], store: str, currency: str | None
) -> Product:
    """A product and its sellable units: its children, or the product itself when it has none."""
    product_id = _id(raw, "product")
    where = f"API2Cart product {product_id}"
    variants = tuple(
        _variant(child, currency, f"{where} child {child.get('id')}") for child in children
    ) or (_variant(raw, currency, where),)
    return Product(
        source=_source(raw, product_id, store, "modified_at", f"{where}: modified_at"),
        title=text(raw.get("name")) or text(raw.get("u_model")) or f"Product {product_id}",
        product_type=text(raw.get("type")),
        vendor=text(raw.get("u_brand")),
        status="active" if raw.get("avail_sale", True) else "inactive",
        variants=variants,
        extra=_extra(
            raw,
            u_model=raw.get("u_model"),
            u_sku=raw.get("u_sku"),
            price_currency_known=currency is not None,
        ),
    )
