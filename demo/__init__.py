"""The demo: the real product, through its real CLI, against the built-in emulators.

``python -m demo`` (what ``make demo`` runs) starts the Shopify, WooCommerce,
API2Cart and Zoho Books emulators on loopback, writes a config and tenant
mappings into ``.demo/``, and drives ``ledgerbridge sync / failures / replay``
as subprocesses -- exactly what an operator would type.
"""
