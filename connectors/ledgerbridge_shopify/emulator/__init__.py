"""Shopify GraphQL Admin API emulator: ``create_app()`` (see ``app.py``)."""

from .app import ALL_SCOPES, DEFAULT_TOKEN, ShopifyEmulator, create_app
from .webhooks import WebhookSender, sign

__all__ = ["ALL_SCOPES", "DEFAULT_TOKEN", "ShopifyEmulator", "WebhookSender", "create_app", "sign"]
