"""API2Cart source connector (unified API over 60+ carts)."""
