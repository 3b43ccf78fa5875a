"""WooCommerce customers and products -> canonical ``Customer``/``Product`` (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledgerbridge.canonical import Customer, Money, Product, ProductVariant, SourceRef

from .fields import PLATFORM, address, gmt, meta, optional_amount, record, text


def _ref(data: dict[str, Any], store: str, where: str) -> SourceRef:
    """The record's identity, versioned by its modification stamp."""
    stamp = data.get("date_modified_gmt")
    return SourceRef(
        platform=PLATFORM,
        store=store,
        external_id=str(data.get("id")),
        version=text(stamp, f"{where}.date_modified_gmt"),
        updated_at=gmt(stamp, f"{where}.date_modified_gmt"),
    )


def map_customer(data: dict[str, Any], store: str) -> Customer:
    where = f"customer {data.get('id')}"  # the guard names a failure by it
    billing = record(data.get("billing"), f"{where}.billing")
    return Customer(
        source=_ref(data, store, where),
        email=text(data.get("email"), f"{where}.email")
        or text(billing.get("email"), f"{where}.billing.email"),
        first_name=text(data.get("first_name"), f"{where}.first_name")
        or text(billing.get("first_name"), f"{where}.billing.first_name"),
        last_name=text(data.get("last_name"), f"{where}.last_name")
        or text(billing.get("last_name"), f"{where}.billing.last_name"),
        company=text(billing.get("company"), f"{where}.billing.company"),
        phone=text(billing.get("phone"), f"{where}.billing.phone"),
        billing_address=address(billing, where=f"{where}.billing"),
        shipping_address=address(data.get("shipping"), where=f"{where}.shipping"),
        extra={
            "role": data.get("role"),
            "username": data.get("username"),
            "is_paying_customer": data.get("is_paying_customer"),
            "meta_data": meta(data.get("meta_data"), f"{where}.meta_data"),
        },
    )


def _variant(data: dict[str, Any], currency: str | None, title: str | None) -> ProductVariant:
    where = f"product {data.get('id')}"
    price = optional_amount(data.get("price"), f"{where}.price")
    return ProductVariant(
        external_id=str(data.get("id")),
        sku=text(data.get("sku"), f"{where}.sku"),
        title=title,
        price=Money(amount=price, currency=currency) if price is not None and currency else None,
        taxable=data.get("tax_status", "taxable") != "none",
    )


def map_product(
    data: dict[str, Any],
    store: str,
    variations: Iterable[dict[str, Any]] = (),
    *,
    currency: str | None = None,
) -> Product:
    """A product; a simple product is its own single variant, a variable one has its variations.

    WooCommerce products carry no currency: prices become Money only when the
    connection names the store currency (``settings.currency``).
    """
    where = f"product {data.get('id')}"
    name = text(data.get("name"), f"{where}.name") or f"Product {data.get('id')}"
    variants = [
        _variant(
            v,
            currency,
            " / ".join(str(a.get("option")) for a in v.get("attributes") or []) or name,
        )
        for v in variations
    ]
    if not variants:
        variants = [_variant(data, currency, name)]
    return Product(
        source=_ref(data, store, where),
        title=name,
        product_type=text(data.get("type"), f"{where}.type"),
        status=text(data.get("status"), f"{where}.status"),
        variants=tuple(variants),
        extra={
            "price": data.get("price"),
            "regular_price": data.get("regular_price"),
            "tax_class": data.get("tax_class"),
            "meta_data": meta(data.get("meta_data"), f"{where}.meta_data"),
        },
    )
