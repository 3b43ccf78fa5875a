"""Every GraphQL document the connector sends, in one place.

Keeping them here (and only here) lets the contract test validate each one
against Shopify's published 2025-01 schema: a renamed field fails in CI, not
in a merchant's nightly sync.  Nested page sizes are kept small on purpose:
Shopify charges a connection ``2 + first x node cost``, and a single query may
not cost more than 1,000 points.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerbridge.canonical import EntityType
from ledgerbridge.http.graphql import Fragments, connection, listed, string_literal

LINE_PAGE = 10
SHIPPING_PAGE = 1  # Shopify's checkout writes one shipping line; more are paged (NESTED_PAGE)
REFUND_LIST = 5
TRANSACTION_LIST = 5
TRANSACTION_MAX = 190  # x 5 points (a MoneyBag with shop and presentment money) < 1,000
REFUND_MAX = 250
REFUND_LINE_PAGE = 10
REFUND_TRANSACTION_PAGE = 5
REFUND_SHIPPING_PAGE = 3
REFUND_ADJUSTMENT_PAGE = 3
FULFILMENT_LIST = 2  # the first read: most orders ship once, in one parcel of a few lines
FULFILMENT_FIRST_LINES = 5
FULFILMENT_LINE_PAGE = 10  # the re-read (ORDER_FULFILMENTS)
FULFILMENT_MAX = 30  # x (4 + 10 x 2) points < 1,000; asked for one more to tell "more than 30"
NESTED_PAGE = 40  # follow-up pages of a nested connection: a line item costs 18 points

FRAGMENTS = """
fragment Bag on MoneyBag {
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
fragment FulfillmentFields on Fulfillment { id legacyResourceId status createdAt }
fragment FulfillmentLineFields on FulfillmentLineItem { quantity lineItem { id } }
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
"""

_ORDER_SCALARS = """
  id legacyResourceId name email note tags sourceName createdAt processedAt updatedAt closedAt
  cancelledAt cancelReason test currencyCode presentmentCurrencyCode taxesIncluded
  displayFinancialStatus paymentGatewayNames discountCodes customAttributes { key value }
  subtotalPriceSet { ...Bag } totalPriceSet { ...Bag } totalTaxSet { ...Bag }
  totalDiscountsSet { ...Bag } totalShippingPriceSet { ...Bag } totalRefundedSet { ...Bag }
  totalTipReceivedSet { ...Bag } originalTotalDutiesSet { ...Bag } dutiesIncluded
  originalTotalAdditionalFeesSet { ...Bag }
  taxLines { ...Tax }
  customer { id legacyResourceId email firstName lastName phone }
  billingAddress { ...Address } shippingAddress { ...Address }
"""


_FRAGMENTS = Fragments(FRAGMENTS)
_doc = _FRAGMENTS.document


def _order(bulk: bool) -> str:
    """An order's selection; in bulk the fulfilments are ids only (their line items would be
    a third nesting level) and are re-read through ``ORDER_FULFILMENTS``."""
    size = (lambda n: None) if bulk else (lambda n: n)
    return "\n  ".join(
        [
            _ORDER_SCALARS,
            connection("lineItems", "LineItemFields", size(LINE_PAGE)),
            connection("shippingLines", "ShippingLineFields", size(SHIPPING_PAGE), _NO_REMOVALS),
            listed("transactions", "...TransactionFields", size(TRANSACTION_LIST)),
            listed("refunds", "id", size(REFUND_LIST)),
            _fulfilments(None) if bulk else _fulfilments(FULFILMENT_LIST, FULFILMENT_FIRST_LINES),
        ]
    )


def _fulfilments(first: int | None, lines: int = 0) -> str:
    """An order's fulfilments with ``lines`` of each one's line items; ids only in bulk.

    The first read asks for few (2 x 5 lines: 28 points of an order's requested cost, where
    5 x 10 cost 120): with the other first-read lists it keeps an order at 296 points, three
    a page (at 301 it is two; docs/performance.md, #18).  ``complete_order`` reads them again
    through ``ORDER_FULFILMENTS`` when that list came back full or a fulfilment has more lines."""
    if first is None:
        return listed("fulfillments", "id", None)
    lines_page = connection("fulfillmentLineItems", "FulfillmentLineFields", lines)
    return listed("fulfillments", f"...FulfillmentFields {lines_page}", first)


_NO_REMOVALS = "includeRemovals: false"


def _variants(bulk: bool) -> str:
    return "...ProductFields " + connection("variants", "VariantFields", None if bulk else 50)


@dataclass(frozen=True)
class EntityQueries:
    """One readable type: its GID type (``Order``) names its fields and operations; its
    list, by-id and bulk queries are generated from one selection."""

    gid_type: str
    list_query: str
    by_id_query: str
    bulk: str
    day_granularity: bool = False  # customers match ``updated_at`` by whole day

    @property
    def by_id(self) -> str:
        return self.gid_type.lower()

    @property
    def root(self) -> str:
        return f"{self.by_id}s"

    @property
    def operation(self) -> str:
        return f"{self.gid_type}sChangedSince"


def _entity(gid_type: str, selection: str, bulk: str, day: bool = False) -> EntityQueries:
    one, many = gid_type.lower(), f"{gid_type.lower()}s"
    changed = (
        f"query {gid_type}sChangedSince($first: Int!, $after: String, $query: String!) {{\n"
        f"  {many}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{\n"
        f"    pageInfo {{ hasNextPage endCursor }}\n    nodes {{ {selection} }}\n  }}\n}}"
    )
    by_id = f"query {gid_type}ById($id: ID!) {{ {one}(id: $id) {{ {selection} }} }}"
    bulked = (
        f"{{\n  {many}(query: $QUERY, sortKey: UPDATED_AT) {{ edges {{ node {{ {bulk} }} }} }}\n}}"
    )
    return EntityQueries(gid_type, _doc(changed), _doc(by_id), _doc(bulked), day)


ENTITIES: dict[EntityType, EntityQueries] = {
    EntityType.ORDER: _entity("Order", _order(False), _order(True)),
    EntityType.CUSTOMER: _entity("Customer", "...CustomerFields", "...CustomerFields", True),
    EntityType.PRODUCT: _entity("Product", _variants(False), _variants(True)),
}


def _nested(
    owner: str, field: str, fragment: str, extra_args: str = ""
) -> tuple[tuple[str, str], str]:
    """The follow-up query for the pages after the first of ``owner``'s connection ``field``."""
    name = f"{owner.capitalize()}{field[0].upper()}{field[1:]}Page"
    args = "first: $first, after: $after" + (f", {extra_args}" if extra_args else "")
    body = (
        f"query {name}($id: ID!, $first: Int!, $after: String) {{\n  {owner}(id: $id) {{\n"
        f"    {field}({args}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...{fragment} }} }}"
        "\n  }\n}"
    )
    return (owner, field), _doc(body)


# The source completes every connection listed here (in this order) whose first page is not all.
NESTED_PAGES: dict[tuple[str, str], str] = dict(
    [
        _nested("order", "lineItems", "LineItemFields"),
        _nested("order", "shippingLines", "ShippingLineFields", _NO_REMOVALS),
        _nested("refund", "refundLineItems", "RefundLineFields"),
        _nested("refund", "refundShippingLines", "RefundShippingFields"),
        _nested("refund", "orderAdjustments", "AdjustmentFields"),
        _nested("refund", "transactions", "TransactionFields"),
        _nested("product", "variants", "VariantFields"),
    ]
)


def _order_query(name: str, selection: str) -> str:
    return _doc(f"query {name}($id: ID!) {{ order(id: $id) {{ {selection} }} }}")


_REFUND_BODY = " ".join(
    [
        "id legacyResourceId createdAt updatedAt note totalRefundedSet { ...Bag }",
        connection("refundLineItems", "RefundLineFields", REFUND_LINE_PAGE),
        connection("refundShippingLines", "RefundShippingFields", REFUND_SHIPPING_PAGE),
        connection("orderAdjustments", "AdjustmentFields", REFUND_ADJUSTMENT_PAGE),
        connection("transactions", "TransactionFields", REFUND_TRANSACTION_PAGE),
    ]
)
REFUND_BY_ID = _doc(f"query RefundById($id: ID!) {{ refund(id: $id) {{ {_REFUND_BODY} }} }}")
"""Refunds are read one by one: inside the order query their nested connections would
multiply the order page's requested cost past Shopify's 1,000-point single-query limit."""

ORDER_REFUND_IDS = _order_query("OrderRefundIds", listed("refunds", "id", REFUND_MAX))
ORDER_TRANSACTIONS = _order_query(
    "OrderTransactions", listed("transactions", "...TransactionFields", TRANSACTION_MAX)
)
"""Re-reads an order's transaction list when the first read came back full."""
ORDER_FULFILMENTS = _order_query(
    "OrderFulfillments", _fulfilments(FULFILMENT_MAX + 1, FULFILMENT_LINE_PAGE)
)
"""Re-reads an order's fulfilments: after a bulk read (ids only), a full first list or a
fulfilment with more line items than the first read asked for.  One more than
``FULFILMENT_MAX`` is asked for, so that an order with more parks instead of posting a part."""
ORDER_LISTS = {
    "transactions": (ORDER_TRANSACTIONS, "OrderTransactions"),
    "fulfillments": (ORDER_FULFILMENTS, "OrderFulfillments"),
    "refunds": (ORDER_REFUND_IDS, "OrderRefundIds"),
}

# Bulk queries ignore pagination arguments, allow at most five connections and a nesting
# depth of two; rows of nested connections come back as separate JSONL lines carrying
# ``__parentId``.  Orders with refunds are re-read through the by-id query so that refunds
# keep every nested connection.


def bulk_query(template: str, search: str) -> str:
    """A bulk inner query with its search string inlined (bulk queries take no variables)."""
    return template.replace("$QUERY", string_literal(search))


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

_SINCE = {"Customer": "updated_at:>='2025-01-01'"}
ALL_QUERIES: dict[str, str] = {
    "REFUND_BY_ID": REFUND_BY_ID,
    "ORDER_REFUND_IDS": ORDER_REFUND_IDS,
    "ORDER_TRANSACTIONS": ORDER_TRANSACTIONS,
    "ORDER_FULFILMENTS": ORDER_FULFILMENTS,
    "SHOP": SHOP,
    "BULK_RUN": BULK_RUN,
    "BULK_POLL": BULK_POLL,
    **{f"NESTED_{o}_{f}": query for (o, f), query in NESTED_PAGES.items()},
}
for _spec in ENTITIES.values():
    _kind = _spec.gid_type.upper()
    ALL_QUERIES[f"{_kind}S_CHANGED"] = _spec.list_query
    ALL_QUERIES[f"{_kind}_BY_ID"] = _spec.by_id_query
    since = _SINCE.get(_spec.gid_type, "updated_at:>='2025-01-01T00:00:00Z'")
    ALL_QUERIES[f"BULK_{_kind}S"] = bulk_query(_spec.bulk, since)
