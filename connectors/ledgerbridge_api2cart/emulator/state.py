"""What the API2Cart emulator holds: its stores, keys, cursors and injected answers.

Tests change it while the app runs (``state.inject``, ``state.stores``); ``app`` reads it
on every call.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .seed import StoreData, seed_store


class A2CError(Exception):
    """An answer with a non-zero ``return_code`` (API2Cart answers HTTP 200 even then)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Injection:
    code: int
    remaining: int
    methods: frozenset[str] | None = None
    message: str = "injected"


@dataclass
class Cursor:
    method: str
    store_key: str
    ids: list[str]
    offset: int
    count: int
    fields: dict[str, str]


@dataclass
class EmulatorState:
    """What the emulator holds; tests change it while it runs."""

    api_keys: set[str]
    stores: dict[str, StoreData]
    default_precision: int = 2
    injections: list[Injection] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    cursors: dict[str, Cursor] = field(default_factory=dict)
    idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    _serial: int = 0

    def inject(
        self, code: int, times: int = 1, methods: Iterable[str] | None = None, message: str = ""
    ) -> None:
        """Answer the next ``times`` matching calls with ``return_code`` ``code``."""
        self.injections.append(
            Injection(
                code,
                times,
                frozenset(methods) if methods else None,
                message or f"injected return_code {code}",
            )
        )

    def calls(self, method: str) -> list[dict[str, str]]:
        return [params for name, params in self.requests if name == method]

    def next_token(self) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"cursor:{self._serial}".encode()).digest() * 3
        return base64.b64encode(digest[:59]).decode()  # contains '+', '/' and '='


DEFAULT_API_KEY = "sandbox-api-key"
DEFAULT_STORES = {
    "sandbox-store-shopify": ("Shopify", "USD"),
    "sandbox-store-etsy": ("EtsyAPIv3", "EUR"),
    "sandbox-store-amazon": ("AmazonSP", "USD"),
    "sandbox-store-woo": ("WoocommerceApi", "GBP"),
}


def create_state(
    *,
    api_key: str = DEFAULT_API_KEY,
    stores: dict[str, tuple[str, str]] | None = None,
    orders: int = 25,
    seed: int = 1,
    tax_rates: tuple[Decimal, ...] = (Decimal("0.08"), Decimal("0.2")),
) -> EmulatorState:
    return EmulatorState(
        api_keys={api_key},
        stores={
            key: seed_store(cart, currency=currency, orders=orders, seed=seed, tax_rates=tax_rates)
            for key, (cart, currency) in (stores or DEFAULT_STORES).items()
        },
    )
