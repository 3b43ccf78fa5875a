"""API2Cart ``Customer``, ``Product`` and ``Child`` JSON -> canonical (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ledgerbridge.canonical import Customer, Money, Product, ProductVariant, SourceRef
from ledgerbridge.contracts.readers import text
from ledgerbridge.errors import ValidationFailed

from .envelope import PLATFORM
from .fields import address, amount, timestamp, timestamp_text


def map_customer(raw: Mapping[str, Any], store: str) -> Customer:
    customer_id = text(raw.get("id"))
    if customer_id is None:
        raise ValidationFailed("API2Cart customer without id", platform=PLATFORM)
    email = text(raw.get("email"))
    book = [a for a in raw.get("address_book") or [] if isinstance(a, dict)]
    billing = next((a for a in book if a.get("type") == "billing"), None) or next(
        (a for a in book if a.get("default")), None
    )
    shipping = next((a for a in book if a.get("type") == "shipping"), None)
    return Customer(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=customer_id,
            version=timestamp_text(raw.get("modified_time")),
            updated_at=timestamp(raw.get("modified_time"), f"customer {customer_id}"),
        ),
        email=email,
        first_name=text(raw.get("first_name")),
        last_name=text(raw.get("last_name")),
        company=text(raw.get("company")),
        phone=text(raw.get("phone")),
        billing_address=address(billing, email),
        shipping_address=address(shipping),
        is_guest=bool(raw.get("is_guest")),
        extra={
            "status": raw.get("status"),
            "group": raw.get("group") or [],
            "additional_fields": raw.get("additional_fields") or {},
            "custom_fields": raw.get("custom_fields") or {},
        },
    )


def _variant(raw: Mapping[str, Any], currency: str | None, where: str) -> ProductVariant:
    price = amount(raw.get("default_price", raw.get("price")), f"{where}.price")
    return ProductVariant(
        external_id=str(raw.get("id")),
        sku=text(raw.get("sku")) or text(raw.get("u_sku")) or text(raw.get("u_model")),
        title=text(raw.get("name")),
        price=Money(amount=price, currency=currency) if price is not None and currency else None,
        barcode=text(raw.get("upc")) or text(raw.get("ean")) or text(raw.get("gtin")),
    )


def map_product(
    raw: Mapping[str, Any], children: Sequence[Mapping[str, Any]], store: str, currency: str | None
) -> Product:
    """A product and its sellable units: its children, or the product itself when it has none."""
    product_id = text(raw.get("id"))
    if product_id is None:
        raise ValidationFailed("API2Cart product without id", platform=PLATFORM)
    where = f"API2Cart product {product_id}"
    variants = tuple(
        _variant(child, currency, f"{where} child {child.get('id')}") for child in children
    ) or (_variant(raw, currency, where),)
    return Product(
        source=SourceRef(
            platform=PLATFORM,
            store=store,
            external_id=product_id,
            version=timestamp_text(raw.get("modified_at")),
            updated_at=timestamp(raw.get("modified_at"), f"{where}: modified_at"),
        ),
        title=text(raw.get("name")) or text(raw.get("u_model")) or f"Product {product_id}",
        product_type=text(raw.get("type")),
        vendor=text(raw.get("u_brand")),
        status="active" if raw.get("avail_sale", True) else "inactive",
        variants=variants,
        extra={
            "u_model": raw.get("u_model"),
            "u_sku": raw.get("u_sku"),
            "price_currency_known": currency is not None,
            "additional_fields": raw.get("additional_fields") or {},
            "custom_fields": raw.get("custom_fields") or {},
        },
    )
