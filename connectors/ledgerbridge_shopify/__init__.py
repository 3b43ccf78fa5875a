"""Shopify source connector (GraphQL Admin API)."""
