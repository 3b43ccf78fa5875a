"""Every GraphQL document the connector sends, in one place.

Keeping them here (and only here) lets the contract test validate each one
against Shopify's published 2025-01 schema: a renamed field fails in CI, not
in a merchant's nightly sync.  Nested page sizes are kept small on purpose:
Shopify charges a connection ``2 + first x node cost``, and a single query may
not cost more than 1,000 points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINE_PAGE = 10
SHIPPING_PAGE = 2
REFUND_LIST = 20
TRANSACTION_LIST = 10
TRANSACTION_MAX = 190  # x 5 points (a MoneyBag with shop and presentment money) < 1,000
REFUND_MAX = 250
REFUND_LINE_PAGE = 10
REFUND_TRANSACTION_PAGE = 5
REFUND_SHIPPING_PAGE = 3
REFUND_ADJUSTMENT_PAGE = 3
FULFILMENT_LIST = 5
FULFILMENT_LINE_PAGE = 10
FULFILMENT_MAX = 30  # x (3 + 10 x 2) points < 1,000
NESTED_PAGE = 40  # follow-up pages of a nested connection: a line item costs 18 points

FRAGMENTS = """
fragment Bag on MoneyBag {
  shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }
}
fragment BagBoth on MoneyBag {
  shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }
}
fragment Tax on TaxLine { title rate priceSet { ...Bag } }
fragment Address on MailingAddress {
  firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone
}
fragment Allocation on DiscountAllocation {
  allocatedAmountSet { ...Bag }
  discountApplication {
    __typename index allocationMethod targetType
    ... on DiscountCodeApplication { code }
    ... on AutomaticDiscountApplication { title }
    ... on ManualDiscountApplication { title }
    ... on ScriptDiscountApplication { title }
  }
}
fragment LineItemFields on LineItem {
  id sku name title variantTitle vendor quantity currentQuantity refundableQuantity isGiftCard
  taxable
  variant { id legacyResourceId }
  product { id legacyResourceId }
  originalUnitPriceSet { ...Bag }
  totalDiscountSet { ...Bag }
  discountAllocations { ...Allocation }
  taxLines { ...Tax }
}
fragment ShippingLineFields on ShippingLine {
  id title code isRemoved
  originalPriceSet { ...Bag }
  discountAllocations { ...Allocation }
  taxLines { ...Tax }
}
fragment TransactionFields on OrderTransaction {
  id kind status gateway processedAt test paymentId
  amountSet { ...Bag }
  parentTransaction { id }
}
fragment FulfillmentFields on Fulfillment {
  id legacyResourceId status createdAt
  fulfillmentLineItems(first: FULFILMENT_LINE_PAGE) {
    pageInfo { hasNextPage } nodes { quantity lineItem { id } } }
}
fragment RefundLineFields on RefundLineItem {
  id quantity restockType
  lineItem { id sku title taxLines { title rate } }
  subtotalSet { ...Bag }
  totalTaxSet { ...Bag }
}
fragment RefundShippingFields on RefundShippingLine {
  id shippingLine { title taxLines { title rate } }
  subtotalAmountSet { ...Bag } taxAmountSet { ...Bag }
}
fragment AdjustmentFields on OrderAdjustment {
  id reason amountSet { ...Bag } taxAmountSet { ...Bag }
}
fragment CustomerFields on Customer {
  id legacyResourceId email firstName lastName phone note state tags taxExempt
  createdAt updatedAt defaultAddress { ...Address }
}
fragment ProductFields on Product {
  id legacyResourceId title productType vendor status tags updatedAt
}
fragment VariantFields on ProductVariant { id legacyResourceId sku title price taxable barcode }
""".replace("FULFILMENT_LINE_PAGE", str(FULFILMENT_LINE_PAGE))

_ORDER_SCALARS = """
  id legacyResourceId name email note tags sourceName createdAt processedAt updatedAt closedAt
  cancelledAt cancelReason test currencyCode presentmentCurrencyCode taxesIncluded
  displayFinancialStatus paymentGatewayNames discountCodes customAttributes { key value }
  subtotalPriceSet { ...Bag } totalPriceSet { ...BagBoth } totalTaxSet { ...Bag }
  totalDiscountsSet { ...Bag } totalShippingPriceSet { ...Bag } totalRefundedSet { ...Bag }
  totalTipReceivedSet { ...Bag } originalTotalDutiesSet { ...Bag } dutiesIncluded
  originalTotalAdditionalFeesSet { ...Bag }
  taxLines { ...Tax }
  customer { id legacyResourceId email firstName lastName phone }
  billingAddress { ...Address } shippingAddress { ...Address }
"""

_REFUND_BODY = f"""
  id legacyResourceId createdAt updatedAt note totalRefundedSet {{ ...Bag }}
  refundLineItems(first: {REFUND_LINE_PAGE}) {{
    pageInfo {{ hasNextPage endCursor }} nodes {{ ...RefundLineFields }} }}
  refundShippingLines(first: {REFUND_SHIPPING_PAGE}) {{
    pageInfo {{ hasNextPage endCursor }} nodes {{ ...RefundShippingFields }} }}
  orderAdjustments(first: {REFUND_ADJUSTMENT_PAGE}) {{
    pageInfo {{ hasNextPage endCursor }} nodes {{ ...AdjustmentFields }} }}
  transactions(first: {REFUND_TRANSACTION_PAGE}) {{
    pageInfo {{ hasNextPage endCursor }} nodes {{ ...TransactionFields }} }}
"""

ORDER_BODY = f"""
  {_ORDER_SCALARS}
  lineItems(first: {LINE_PAGE}) {{
    pageInfo {{ hasNextPage endCursor }} nodes {{ ...LineItemFields }} }}
  shippingLines(first: {SHIPPING_PAGE}, includeRemovals: false) {{
    pageInfo {{ hasNextPage endCursor }} nodes {{ ...ShippingLineFields }} }}
  transactions(first: {TRANSACTION_LIST}) {{ ...TransactionFields }}
  refunds(first: {REFUND_LIST}) {{ id }}
  fulfillments(first: {FULFILMENT_LIST}) {{ ...FulfillmentFields }}
"""


def _split_fragments(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in re.split(r"\n(?=fragment )", text.strip()):
        name = chunk.split()[1]
        found[name] = chunk.strip()
    return found


_FRAGMENTS = _split_fragments(FRAGMENTS)
_SPREAD = re.compile(r"\.\.\.([A-Za-z_]\w*)")


def _doc(body: str) -> str:
    """The operation plus exactly the fragments it uses (GraphQL rejects unused ones)."""
    needed: list[str] = []
    pending = [m for m in _SPREAD.findall(body) if m != "on"]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.append(name)
        pending += [m for m in _SPREAD.findall(_FRAGMENTS[name]) if m != "on"]
    return "\n".join([body.strip(), *(_FRAGMENTS[n] for n in sorted(needed))]) + "\n"


ORDERS_CHANGED = _doc(
    f"""
query OrdersChangedSince($first: Int!, $after: String, $query: String!) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ORDER_BODY} }}
  }}
}}"""
)

ORDER_BY_ID = _doc(f"query OrderById($id: ID!) {{ order(id: $id) {{ {ORDER_BODY} }} }}")

CUSTOMERS_CHANGED = _doc(
    """
query CustomersChangedSince($first: Int!, $after: String, $query: String!) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...CustomerFields }
  }
}"""
)

CUSTOMER_BY_ID = _doc("query CustomerById($id: ID!) { customer(id: $id) { ...CustomerFields } }")

_VARIANTS = "variants(first: 50) { pageInfo { hasNextPage endCursor } nodes { ...VariantFields } }"

PRODUCTS_CHANGED = _doc(
    f"""
query ProductsChangedSince($first: Int!, $after: String, $query: String!) {{
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ ...ProductFields {_VARIANTS} }}
  }}
}}"""
)

PRODUCT_BY_ID = _doc(
    f"query ProductById($id: ID!) {{ product(id: $id) {{ ...ProductFields {_VARIANTS} }} }}"
)


@dataclass(frozen=True)
class NestedPage:
    """A follow-up query for one nested connection that had more than one page."""

    owner: str  # "order" | "refund" | "product"
    field: str
    query: str


def _nested(owner: str, field: str, fragment: str, extra_args: str = "") -> NestedPage:
    name = f"{owner.capitalize()}{field[0].upper()}{field[1:]}Page"
    body = f"""
query {name}($id: ID!, $first: Int!, $after: String) {{
  {owner}(id: $id) {{
    {field}(first: $first, after: $after{extra_args}) {{
      pageInfo {{ hasNextPage endCursor }} nodes {{ ...{fragment} }} }}
  }}
}}"""
    return NestedPage(owner, field, _doc(body))


NESTED_PAGES: dict[tuple[str, str], NestedPage] = {
    (p.owner, p.field): p
    for p in (
        _nested("order", "lineItems", "LineItemFields"),
        _nested("order", "shippingLines", "ShippingLineFields", ", includeRemovals: false"),
        _nested("refund", "refundLineItems", "RefundLineFields"),
        _nested("refund", "refundShippingLines", "RefundShippingFields"),
        _nested("refund", "orderAdjustments", "AdjustmentFields"),
        _nested("refund", "transactions", "TransactionFields"),
        _nested("product", "variants", "VariantFields"),
    )
}

REFUND_BY_ID = _doc(f"query RefundById($id: ID!) {{ refund(id: $id) {{ {_REFUND_BODY} }} }}")
"""Refunds are read one by one: inside the order query their nested connections would
multiply the order page's requested cost past Shopify's 1,000-point single-query limit."""

ORDER_REFUND_IDS = _doc(
    "query OrderRefundIds($id: ID!) "
    f"{{ order(id: $id) {{ refunds(first: {REFUND_MAX}) {{ id }} }} }}"
)

ORDER_TRANSACTIONS = _doc(
    f"""
query OrderTransactions($id: ID!) {{
  order(id: $id) {{ transactions(first: {TRANSACTION_MAX}) {{ ...TransactionFields }} }}
}}"""
)
"""Re-reads an order's transaction list when the first read came back full."""

ORDER_FULFILMENTS = _doc(
    f"""
query OrderFulfillments($id: ID!) {{
  order(id: $id) {{ fulfillments(first: {FULFILMENT_MAX}) {{ ...FulfillmentFields }} }}
}}"""
)
"""Re-reads an order's fulfilments: after a bulk read (ids only) or a full first list."""

# ---------------------------------------------------------------- bulk operations
# Bulk queries ignore pagination arguments, allow at most five connections and a
# nesting depth of two; rows of nested connections come back as separate JSONL
# lines carrying ``__parentId``.  Orders with refunds are re-read through
# ``ORDER_BY_ID`` so that refunds keep every nested connection.

_BULK_ORDER_SCALARS = (
    _ORDER_SCALARS
    + "\n  transactions { ...TransactionFields }\n  refunds { id }\n  fulfillments { id }"
)

BULK_ORDERS = _doc(
    f"""
{{
  orders(query: $QUERY, sortKey: UPDATED_AT) {{
    edges {{ node {{
      {_BULK_ORDER_SCALARS}
      lineItems {{ edges {{ node {{ ...LineItemFields }} }} }}
      shippingLines(includeRemovals: false) {{ edges {{ node {{ ...ShippingLineFields }} }} }}
    }} }}
  }}
}}"""
)

BULK_CUSTOMERS = _doc(
    """
{
  customers(query: $QUERY, sortKey: UPDATED_AT) { edges { node { ...CustomerFields } } }
}"""
)

BULK_PRODUCTS = _doc(
    """
{
  products(query: $QUERY, sortKey: UPDATED_AT) {
    edges { node { ...ProductFields variants { edges { node { ...VariantFields } } } } }
  }
}"""
)


def bulk_query(template: str, search: str) -> str:
    """A bulk inner query with its search string inlined (bulk queries take no variables)."""
    escaped = search.replace("\\", "\\\\").replace('"', '\\"')
    return template.replace("$QUERY", f'"{escaped}"')


SHOP = "query ShopInfo { shop { id name myshopifyDomain currencyCode taxesIncluded } }"

BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status createdAt }
    userErrors { field message }
  }
}"""

BULK_POLL = """
query BulkPoll {
  currentBulkOperation(type: QUERY) {
    id status errorCode createdAt completedAt objectCount rootObjectCount fileSize
    url partialDataUrl
  }
}"""

ALL_QUERIES: dict[str, str] = {
    "ORDERS_CHANGED": ORDERS_CHANGED,
    "ORDER_BY_ID": ORDER_BY_ID,
    "REFUND_BY_ID": REFUND_BY_ID,
    "ORDER_REFUND_IDS": ORDER_REFUND_IDS,
    "ORDER_TRANSACTIONS": ORDER_TRANSACTIONS,
    "ORDER_FULFILMENTS": ORDER_FULFILMENTS,
    "CUSTOMERS_CHANGED": CUSTOMERS_CHANGED,
    "CUSTOMER_BY_ID": CUSTOMER_BY_ID,
    "PRODUCTS_CHANGED": PRODUCTS_CHANGED,
    "PRODUCT_BY_ID": PRODUCT_BY_ID,
    "SHOP": SHOP,
    "BULK_RUN": BULK_RUN,
    "BULK_POLL": BULK_POLL,
    **{f"NESTED_{o}_{f}": p.query for (o, f), p in NESTED_PAGES.items()},
    "BULK_ORDERS": bulk_query(BULK_ORDERS, "updated_at:>='2025-01-01T00:00:00Z'"),
    "BULK_CUSTOMERS": bulk_query(BULK_CUSTOMERS, "updated_at:>='2025-01-01'"),
    "BULK_PRODUCTS": bulk_query(BULK_PRODUCTS, "updated_at:>='2025-01-01T00:00:00Z'"),
}
