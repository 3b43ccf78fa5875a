"""The WooCommerce emulator: ``create_app()`` for in-process or loopback use."""

from .app import DEFAULT_KEY, DEFAULT_SECRET, Emulator, EmulatorConfig, create_app
from .data import OrderSpec, StoreData, seed
from .webhooks import WebhookSender, sign

__all__ = [
    "DEFAULT_KEY",
    "DEFAULT_SECRET",
    "Emulator",
    "EmulatorConfig",
    "OrderSpec",
    "StoreData",
    "WebhookSender",
    "create_app",
    "seed",
    "sign",
]
