"""WooCommerce source connector (REST API wc/v3)."""
