"""Zoho Books target connector (REST API v3)."""
