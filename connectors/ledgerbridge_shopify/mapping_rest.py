"""REST-shaped Shopify JSON (webhook bodies, ``fetch_api: rest``, the vendor fixtures) read as
the GraphQL shape, so one mapper (``mapping_graphql``) turns both into canonical objects.

``to_graphql`` renames the snake_case fields and states every amount as a ``MoneyBag``: from
``*_set.shop_money`` when present, else from the plain field (a string, or a JSON number read
exactly as Decimal) in the order currency.  Amounts, quantities and required fields are read
here, so a record that cannot be mapped is refused naming the REST field
(``line_items[1].price_set``); a generic renaming would name the GraphQL one.  What REST states
differently is applied to the mapped fields afterwards: the version in UTC, the customer
record, REST's extras, a refund's ``processed_at``, a refund given back as a negative order
adjustment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from ledgerbridge.canonical import Customer, Money, Order, OrderStatus, Payment, Refund

from . import mapping_graphql as graphql
from .checkpoint import stamp
from .fulfilments import rest_fulfilments
from .mapping_common import build, decimal, legacy_id, moment, source_ref
from .mapping_common import money as cash
from .rest_shape import check_object, check_order, check_refund, check_text, refuse

Json = dict[str, Any]


def utc_stamp(value: Any) -> str | None:
    """REST ``updated_at`` (with an offset; none: UTC) in GraphQL's ``updatedAt`` form, so
    the same change read through REST and through a GraphQL poll carries one version."""
    when = moment(value)
    return None if when is None else stamp(when if when.tzinfo else when.replace(tzinfo=UTC))


def inside(where: str, name: str) -> str:
    """The path of ``name`` in the object at ``where`` (``""``: the order itself, whose fields
    are named alone, as the webhook body names them)."""
    return f"{where}.{name}" if where else name


def amount(obj: Json, field: str, currency: str, where: str) -> Money:
    """``field_set.shop_money`` if the record has it, else ``field`` in the shop currency."""
    bag = obj.get(f"{field}_set")
    check_object(bag, inside(where, f"{field}_set"))
    if bag and bag.get("shop_money"):
        shop = bag["shop_money"]
        check_object(shop, inside(where, f"{field}_set.shop_money"))
        return Money(
            amount=decimal(shop["amount"], inside(where, f"{field}_set")),
            currency=shop["currency_code"],
        )
    if obj.get(field) is None:
        refuse(inside(where, field), "is missing")
    return Money(amount=decimal(obj[field], inside(where, field)), currency=currency)


def _bag(money: Money) -> Json:
    return {"shopMoney": {"amount": money.amount, "currencyCode": money.currency}}


def _set(obj: Json, field: str, currency: str, where: str) -> Json:
    return _bag(amount(obj, field, currency, where))


ADDRESS = {"first_name": "firstName", "last_name": "lastName", "province_code": "provinceCode"}
ADDRESS |= {k: k for k in ("company", "address1", "address2", "city", "province", "zip", "phone")}
ADDRESS |= {"country_code": "countryCodeV2"}


def _address(data: Json | None) -> Json | None:
    return {name: data.get(key) for key, name in ADDRESS.items()} if data else None


def _taxes(items: list[Json], currency: str, where: str) -> list[Json]:
    return [_tax(t, currency, inside(where, f"tax_lines[{i}]")) for i, t in enumerate(items)]


def _tax(line: Json, currency: str, where: str) -> Json:
    check_text(line.get("title"), f"{where}.title", required=True)
    if line.get("rate") is not None:
        decimal(line["rate"], f"{where}.rate")  # refused here, by its path; read as given
    return {
        "title": line["title"],
        "rate": line.get("rate"),
        "priceSet": _set(line, "price", currency, where),
    }


def _allocations(items: list[Json], applications: list[Json], currency: str, where: str) -> Any:
    out = []
    for i, alloc in enumerate(items):
        value = _set(alloc, "amount", currency, f"{where}.discount_allocations[{i}]")
        index = int(alloc.get("discount_application_index", -1))
        app = applications[index] if 0 <= index < len(applications) else {}
        kind = app.get("type", "")
        title = app.get("title") or app.get("description")
        application = {"index": index, "code": app.get("code"), "title": title, "__typename": kind}
        out.append({"allocatedAmountSet": value, "discountApplication": application})
    return out


def _payment(data: Json, currency: str, where: str) -> Json:
    if data.get("amount_set") is None and data.get("currency") not in (None, currency):
        raise ValueError(
            f"{where}: amount is in {data['currency']} and no shop-currency amount_set is given"
        )
    parent = data.get("parent_id")
    return {
        "id": data["id"],
        "kind": data["kind"],
        "status": data.get("status"),
        "amountSet": _set(data, "amount", currency, where),
        "gateway": data.get("gateway"),
        "processedAt": data.get("processed_at") or data.get("created_at"),
        "parentTransaction": {"id": parent} if parent not in (None, "") else None,
        "paymentId": data.get("authorization"),
        "test": data.get("test", False),
    }


def payment(data: Json, currency: str, where: str) -> Payment:
    return graphql.payment(_payment(data, currency, where), where)


# Each element of a list is read by a function whose ``where`` parameter is its path: a path
# local set in a loop would outlive the loop, and the guard (``contracts.guard.field_path``)
# would name a later failure in the same frame after the loop's last element.


def _refund_line(item: Json, currency: str, where: str) -> Json:
    line_item = item.get("line_item") or {}
    check_object(line_item, f"{where}.line_item")
    tax = _set(item, "total_tax", currency, where)
    return {
        "lineItem": {**line_item, "id": item.get("line_item_id") or line_item.get("id")}
        | {"taxLines": line_item.get("tax_lines") or []},
        "quantity": decimal(item["quantity"], f"{where}.quantity"),
        "subtotalSet": _set(item, "subtotal", currency, where),
        "totalTaxSet": tax,
        "restockType": item.get("restock_type", ""),
    }


def _refund_shipping(ship: Json, currency: str, zero: Json, where: str) -> Json:
    taxed = ship.get("tax_amount_set") or ship.get("tax_amount")
    return {
        "subtotalAmountSet": _set(ship, "subtotal_amount", currency, where),
        "taxAmountSet": _set(ship, "tax_amount", currency, where) if taxed else zero,
    }


def _adjustment(adj: Json, currency: str, zero: Json, where: str) -> tuple[bool, Json]:
    """(whether it gives back shipping, its GraphQL form): REST records what a refund gives
    back as a negative adjustment of the order."""
    value, part = amount(adj, "amount", currency, where), amount(adj, "tax_amount", currency, where)
    if adj.get("kind") == "shipping_refund":
        return True, {"subtotalAmountSet": _bag(-(value + part)), "taxAmountSet": zero}
    return False, {"amountSet": _bag(-value), "taxAmountSet": _bag(-part)}


def _refund(data: Json, currency: str) -> Json:
    where = f"refund {legacy_id(data['id'])}"  # the whole frame reads this refund
    check_refund(data, where)
    lines = [
        _refund_line(item, currency, f"{where}.refund_line_items[{i}]")
        for i, item in enumerate(data.get("refund_line_items") or [])
    ]
    zero = _bag(Money(amount=0, currency=currency))
    shipping = [
        _refund_shipping(ship, currency, zero, f"{where}.refund_shipping_lines[{i}]")
        for i, ship in enumerate(data.get("refund_shipping_lines") or [])
    ]
    adjustments: list[Json] = []
    for i, adj in enumerate(data.get("order_adjustments") or []):
        is_shipping, node = _adjustment(adj, currency, zero, f"{where}.order_adjustments[{i}]")
        (shipping if is_shipping else adjustments).append(node)
    transactions = [
        _payment(t, currency, f"{where}.transactions[{i}]")
        for i, t in enumerate(data.get("transactions") or [])
    ]
    return {
        "id": data["id"],
        "createdAt": data.get("created_at"),
        "updatedAt": data.get("created_at"),
        "note": data.get("note"),
        "refundLineItems": {"nodes": lines},
        "refundShippingLines": {"nodes": shipping},
        "orderAdjustments": {"nodes": adjustments},
        "transactions": {"nodes": transactions},
    }


def refund(data: Json, store: str, currency: str, taxes_included: bool) -> Refund:
    fields = graphql.refund_data(_refund(data, currency), store, currency, taxes_included)
    fields["processed_at"] = moment(data.get("processed_at"))
    fields["extra"] = {
        "admin_graphql_api_id": data.get("admin_graphql_api_id"),
        "restock": data.get("restock"),
    }
    return Refund(**fields)


def _refund_at(data: Json, store: str, currency: str, taxes_included: bool, where: str) -> Refund:
    """``refund`` of the order's refund at ``where`` (the path until the refund's id is read)."""
    if data.get("id") in (None, ""):
        refuse(f"{where}.id", "is missing")
    return refund(data, store, currency, taxes_included)


def _line(item: Json, applications: list[Json], currency: str, where: str) -> Json:
    if item.get("id") in (None, ""):
        refuse(f"{where}.id", "is missing")
    for key in ("title", "name", "sku"):
        check_text(item.get(key), f"{where}.{key}")
    product, variant = item.get("product_id"), item.get("variant_id")
    return {
        "id": item["id"],
        "title": item.get("title"),
        "name": item.get("name"),
        "sku": item.get("sku"),
        "quantity": decimal(item["quantity"], f"{where}.quantity"),
        "originalUnitPriceSet": _set(item, "price", currency, where),
        "discountAllocations": _allocations(
            item.get("discount_allocations") or [], applications, currency, where
        ),
        "taxLines": _taxes(item.get("tax_lines") or [], currency, where),
        "product": {"id": product} if product is not None else None,
        "variant": {"id": variant} if variant is not None else None,
        "taxable": item.get("taxable", True),
        "isGiftCard": item.get("gift_card", False),
    }


def _shipping(ship: Json, apps: list[Json], currency: str, where: str) -> Json:
    check_text(ship.get("title"), f"{where}.title", required=True)
    check_text(ship.get("code"), f"{where}.code")
    return {
        "title": ship["title"],
        "code": ship.get("code"),
        "originalPriceSet": _set(ship, "price", currency, where),
        "discountAllocations": _allocations(
            ship.get("discount_allocations") or [], apps, currency, where
        ),
        "taxLines": _taxes(ship.get("tax_lines") or [], currency, where),
    }


def _duties(data: Json, currency: str, where: str) -> Json | None:
    """The duties charged on top (none when ``duties_included``), in the shop currency."""
    duties = (data.get("original_total_duties_set") or {}).get("shop_money")
    check_object(duties, f"{where}.shop_money")
    if not duties or data.get("duties_included"):
        return None
    return _bag(cash(duties["amount"], currency, "duties"))


def camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.title() for word in rest)


RENAMED = {"presentmentCurrencyCode": "presentment_currency"}
RENAMED |= {"displayFinancialStatus": "financial_status"}
RENAMED |= {camel(f): f for f in ("duties_included", "processed_at", "updated_at")}
RENAMED |= {camel(f): f for f in ("cancelled_at", "closed_at", "payment_gateway_names")}
RENAMED |= {camel(f): f for f in ("test", "note", "source_name")}
"""Order fields REST and GraphQL state alike but for their names (GraphQL's: REST's)."""


def to_graphql(data: Json) -> Json:
    """A REST order as the GraphQL ``Order`` the mapper reads (amounts read and checked)."""
    check_order(data)
    oid = legacy_id(data["id"])
    currency = data["currency"]
    apps = data.get("discount_applications") or []
    lines = [
        _line(item, apps, currency, f"line_items[{i}]")
        for i, item in enumerate(data.get("line_items") or [])
    ]
    shipping = [
        _shipping(ship, apps, currency, f"shipping_lines[{i}]")
        for i, ship in enumerate(data.get("shipping_lines") or [])
    ]
    # read in the order the fields are checked: amounts first, then dates and the rest
    money: Json = {}
    tip = data.get("total_tip_received")
    if tip is not None:
        money["totalTipReceivedSet"] = _bag(cash(tip, currency, "total_tip_received"))
    duties = _duties(data, currency, "original_total_duties_set")
    if duties is not None:
        money["originalTotalDutiesSet"] = duties
    money["totalPriceSet"] = _set(data, "total_price", currency, "")
    for field in ("subtotal_price", "total_discounts", "total_tax"):
        if data.get(field) is not None or data.get(f"{field}_set"):
            money[f"{camel(field)}Set"] = _set(data, field, currency, "")
    if data.get("total_shipping_price_set"):
        money["totalShippingPriceSet"] = _set(data, "total_shipping_price", currency, "")
    presentment = (data.get("total_price_set") or {}).get("presentment_money")
    if presentment:
        money["totalPriceSet"]["presentmentMoney"] = {
            "amount": decimal(presentment["amount"], "total_price_set"),
            "currencyCode": presentment["currency_code"],
        }
    renamed = {key: data.get(field) for key, field in RENAMED.items()}
    return {
        **money,
        **renamed,
        "id": data["id"],
        "name": data.get("name") or str(data.get("order_number") or oid),
        "currencyCode": currency,
        "taxesIncluded": data.get("taxes_included", False),
        "createdAt": data["created_at"],
        "email": data.get("email") or data.get("contact_email"),
        "billingAddress": _address(data.get("billing_address")),
        "shippingAddress": _address(data.get("shipping_address")),
        "lineItems": {"nodes": lines},
        "shippingLines": {"nodes": shipping},
        "taxLines": _taxes(data.get("tax_lines") or [], currency, ""),
        "transactions": [
            _payment(t, currency, f"transactions[{i}]")
            for i, t in enumerate(data.get("transactions") or [])
        ],
        "tags": [t.strip() for t in str(data.get("tags") or "").split(",") if t.strip()],
    }


def _line_extra(line: Json, item: Json, where: str) -> None:
    """What REST says of a line beyond the GraphQL fields."""
    line["product_exists"] = (
        item.get("product_exists", True) is not False and item.get("variant_id") is not None
    )
    line["extra"] = {
        "name": item.get("name"),
        "variant_title": item.get("variant_title"),
        "vendor": item.get("vendor"),
        "properties": {p["name"]: p.get("value") for p in item.get("properties") or []},
        "fulfillable_quantity": item.get("fulfillable_quantity"),
    }


def order_data(data: Json, store: str, status_map: Mapping[str, OrderStatus] | None = None) -> Json:
    """The canonical ``Order`` fields for one REST order: the GraphQL mapping of
    ``to_graphql(data)``, then what REST states differently."""
    out = graphql.order_data(to_graphql(data), store, status_map)
    currency, taxes_included = out["currency"], out["taxes_included"]
    del out["source_status"]
    out["source"]["version"] = utc_stamp(data.get("updated_at"))
    out["cancel_reason"] = data.get("cancel_reason")
    customer = data.get("customer")
    out["customer"] = customer_from(customer, store) if customer else None
    for i, (line, item) in enumerate(zip(out["lines"], data.get("line_items") or [], strict=True)):
        _line_extra(line, item, f"line_items[{i}]")
    out["refunds"] = [
        _refund_at(r, store, currency, taxes_included, f"refunds[{i}]")
        for i, r in enumerate(data.get("refunds") or [])
    ]
    out["fulfilments"] = rest_fulfilments(data)
    out["extra"] = {
        "admin_graphql_api_id": data.get("admin_graphql_api_id"),
        "note_attributes": {a["name"]: a.get("value") for a in data.get("note_attributes") or []},
        "discount_codes": [d.get("code") for d in data.get("discount_codes") or []],
        "gateway": data.get("gateway"),
        "order_number": data.get("order_number"),
    }
    return out


def order(
    data: Json,
    store: str,
    context: dict[str, Any] | None = None,
    status_map: Mapping[str, OrderStatus] | None = None,
) -> Order:
    """A canonical order from REST/webhook JSON (``status_map`` as in ``mapping_graphql``)."""
    ident = str(data.get("name") or data.get("id"))
    return build(
        "order",
        ident,
        lambda: Order.model_validate(order_data(data, store, status_map), context=context),
    )


def customer_from(data: Json, store: str) -> Customer:
    return Customer(
        source=source_ref(store, legacy_id(data["id"]), data.get("updated_at")),
        email=data.get("email"),
        first_name=data.get("first_name"),
        last_name=data.get("last_name"),
        phone=data.get("phone"),
        currency=data.get("currency"),
        billing_address=graphql.address(_address(data.get("default_address"))),
        tax_exempt=bool(data.get("tax_exempt", False)),
        extra={"tags": data.get("tags"), "state": data.get("state"), "note": data.get("note")},
    )


def customer(data: Json, store: str) -> Customer:
    return build("customer", str(data.get("id")), lambda: customer_from(data, store))
