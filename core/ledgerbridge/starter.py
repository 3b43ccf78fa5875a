"""The commented config that ``ledgerbridge init`` writes."""

STARTER_CONFIG = """\
# ledgerbridge.yaml -- what to sync, from where, to where.
# Check it with:  ledgerbridge check -c ledgerbridge.yaml
#
# Secrets are never written here in plain text: reference environment
# variables as ${NAME} (or ${NAME:-default}). Credentials that ledgerbridge
# stores itself (e.g. OAuth refresh tokens) are encrypted with the key in
# LEDGERBRIDGE_SECRET_KEY (create one with `ledgerbridge keygen`).
version: 1

# Where state lives. Default: ./ledgerbridge.db (SQLite). For PostgreSQL:
#   database: postgresql+psycopg://user@host/dbname
# LEDGERBRIDGE_DATABASE_URL overrides this.
# database: sqlite:///ledgerbridge.db

tenants:
  - id: acme                      # lower-case letters, digits, - _ .
    name: Acme Ltd
    connections:
      shop:                       # a source: the storefront
        platform: shopify         # `ledgerbridge connectors` lists what is installed
        settings:
          shop: acme-store        # acme-store.myshopify.com
        secrets:
          access_token: ${SHOPIFY_ACCESS_TOKEN:-}
      books:                      # a target: the accounting organisation
        platform: zohobooks
        settings:
          data_center: com        # com, eu, in, com.au, jp, ca, com.cn, sa, uk
          organization_id: "${ZOHO_ORGANIZATION_ID:-}"
    pipelines:
      - id: acme-shop-to-books
        source: shop
        target: books
        mapping: shopify-to-zohobooks   # a shipped preset, or a path to your own YAML
        posting_policy: invoice         # invoice | sales_receipt | daily_summary
        interval: 5m                    # how often `ledgerbridge run` polls
        rounding_tolerance: 0.01        # differences up to this become a rounding adjustment
"""
