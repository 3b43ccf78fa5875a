"""The canonical model: orders, customers, products, payments and refunds in
platform-neutral terms. Sources produce these; the engine plans from them;
no platform JSON ever gets past a connector."""

from .common import Address, CanonicalModel, EntityType, Extra, SourceRef, TaxLine
from .customer import Customer
from .fulfilment import Fulfilment, FulfilmentLine, FulfilmentStatus
from .money import CurrencyCode, ExactDecimal, Money, minor_units, total
from .order import (
    FeeLine,
    FinancialStatus,
    Order,
    OrderDiscount,
    OrderLine,
    OrderStatus,
    OrderTotals,
    Payment,
    PaymentKind,
    PaymentStatus,
    Refund,
    RefundLine,
    ShippingLine,
)
from .product import InventoryLevel, Product, ProductVariant
from .reconcile import DEFAULT_ROUNDING_TOLERANCE, Discrepancy, Reconciliation

CanonicalRecord = Order | Customer | Product
"""Anything a source can yield."""

__all__ = [
    "DEFAULT_ROUNDING_TOLERANCE",
    "Address",
    "CanonicalModel",
    "CanonicalRecord",
    "CurrencyCode",
    "Customer",
    "Discrepancy",
    "EntityType",
    "ExactDecimal",
    "Extra",
    "FeeLine",
    "FinancialStatus",
    "Fulfilment",
    "FulfilmentLine",
    "FulfilmentStatus",
    "InventoryLevel",
    "Money",
    "Order",
    "OrderDiscount",
    "OrderLine",
    "OrderStatus",
    "OrderTotals",
    "Payment",
    "PaymentKind",
    "PaymentStatus",
    "Product",
    "ProductVariant",
    "Reconciliation",
    "Refund",
    "RefundLine",
    "ShippingLine",
    "SourceRef",
    "TaxLine",
    "minor_units",
    "total",
]
