"""The emulator's strict rules for documents, contacts and payments, each with its source.

Kept apart from the arithmetic (``state.py``) and from custom-field handling so that
every rule the connector relies on is in one place, cites where it comes from, and is
listed in ``docs/connectors/zohobooks.md`` ("Emulator rules and their sources").
Where Zoho's behaviour is unknown the emulator takes the stricter reading and says so.

Sources: ``invoices.yml`` / ``sales-receipt.yml`` / ``credit-notes.yml`` /
``customer-payments.yml`` / ``contacts.yml`` are Zoho's OpenAPI files
(``../shared/refdata/zoho-books-openapi``); "facts §" is
``../shared/docs/platforms/zoho-books.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .state import ZERO, Organization, ZohoError, dec

ENTITY_LEVEL = "entity_level"
ITEM_LEVEL = "item_level"


@dataclass(frozen=True)
class DiscountScope:
    """How a document's discount applies: one scope per document."""

    scope: str | None  # ENTITY_LEVEL, ITEM_LEVEL, or None (no discount at all)
    before_tax: bool = True


def discount_scope(body: dict[str, Any]) -> DiscountScope:
    """``discount_type`` is one scope per document.

    invoices.yml POST /invoices, schema ``discount_type``: "``entity_level`` applies the
    discount to the entire invoice total. ``item_level`` applies the discount to individual
    line items"; ``is_discount_before_tax``: true reduces the taxable amount, false "reduces
    the final total including tax". Facts §15 ("one scope per document"; flexprice folds a
    document discount into the lines and sends ``item_level`` when a line has one).

    Stricter readings (Zoho's handling of these is undocumented): a document carrying both
    an entity ``discount`` and line discounts is refused instead of silently dropping one;
    a discount without a ``discount_type`` naming its scope is refused; an entity-level
    discount must say ``is_discount_before_tax``.
    """
    kind = body.get("discount_type")
    if kind not in (None, "", ENTITY_LEVEL, ITEM_LEVEL):
        raise ZohoError(400, 2, f"Invalid value passed for discount_type: {kind}")
    entity = dec(body.get("discount"))
    lined = [
        index + 1
        for index, raw in enumerate(body.get("line_items") or [])
        if isinstance(raw, dict) and dec(raw.get("discount")) != ZERO
    ]
    if entity != ZERO and lined:
        raise ZohoError(
            400,
            2,
            "A discount applies either to the whole transaction (entity_level) or to its "
            f"line items (item_level), not both: discount {entity} and line item "
            f"discounts on line(s) {', '.join(map(str, lined))}.",
        )
    if entity != ZERO:
        if kind != ENTITY_LEVEL:
            raise ZohoError(
                400, 2, "discount_type must be entity_level for a transaction-level discount."
            )
        if "is_discount_before_tax" not in body:
            raise ZohoError(
                400, 2, "is_discount_before_tax is required for an entity_level discount."
            )
        return DiscountScope(ENTITY_LEVEL, bool(body["is_discount_before_tax"]))
    if lined:
        if kind != ITEM_LEVEL:
            raise ZohoError(
                400, 2, "discount_type must be item_level when line items carry discounts."
            )
        return DiscountScope(ITEM_LEVEL)
    return DiscountScope(None)


def document_currency(
    org: Organization, contact: dict[str, Any], body: dict[str, Any]
) -> tuple[dict[str, Any], Decimal]:
    """A document's currency follows its contact; a foreign one needs an exchange rate.

    * facts §7.1 and §15 ("Currency of a document": a contact has one currency and its
      documents are in it; https://zoho.com/qa/invoice/kb/invoices/invoice-in-multiple-currencies.html):
      a ``currency_id`` other than the contact's is refused.
    * invoices.yml schema ``exchange_rate``: "Required when the invoice currency differs
      from the organization's base currency" -- refused without one, or with one that is
      not a positive number. The same is applied to credit notes (credit-notes.yml
      declares ``exchange_rate``) and, as the stricter reading, to sales receipts.

    Returns the currency row and the rate (1 for the base currency).
    """
    currency = org.currencies.get(str(contact.get("currency_id", "")))
    if currency is None:
        currency = org.base_currency() or {
            "currency_id": "",
            "currency_code": org.currency_code,
        }
    sent = body.get("currency_id")
    if sent not in (None, "") and str(sent) != str(currency["currency_id"]):
        other = org.currencies.get(str(sent))
        raise ZohoError(
            400,
            2,
            f"The currency {other['currency_code'] if other else sent} differs from the "
            f"customer's currency {currency['currency_code']}; a transaction is in its "
            "customer's currency.",
        )
    return currency, exchange_rate(org, currency, body)


def exchange_rate(org: Organization, currency: dict[str, Any], body: dict[str, Any]) -> Decimal:
    """The rate of a transaction in ``currency`` (see ``document_currency``).

    customer-payments.yml declares ``exchange_rate`` on POST /customerpayments; a payment
    in a foreign currency without one is refused (stricter reading: its documents need one).
    """
    if currency["currency_code"] == org.currency_code:
        return dec(body.get("exchange_rate"), Decimal(1))
    raw = body.get("exchange_rate")
    if raw in (None, ""):
        raise ZohoError(
            400,
            2,
            f"Exchange rate is required: the transaction is in {currency['currency_code']} "
            f"and the organisation's base currency is {org.currency_code}.",
        )
    rate = dec(raw)
    if rate <= 0:
        raise ZohoError(400, 2, f"Invalid value passed for exchange_rate: {raw}")
    return rate


def contact_currency_change(
    org: Organization, contact: dict[str, Any], body: dict[str, Any]
) -> None:
    """A contact's currency cannot change once it has transactions.

    https://www.zoho.com/qa/books/kb/contacts/change-currency-associated-with-customer.html
    (facts §15, "Currency of a document").
    """
    sent = body.get("currency_id")
    if sent in (None, "") or str(sent) == str(contact.get("currency_id", "")):
        return
    contact_id = contact.get("contact_id")
    tables = (org.invoices, org.salesreceipts, org.creditnotes, org.payments)
    if any(row.get("customer_id") == contact_id for table in tables for row in table.values()):
        raise ZohoError(
            400,
            2,
            "The currency of a customer with transactions cannot be changed.",
        )


# ---------------------------------------------------------------------------- request schemas
# The fields each write's request schema declares (top level, and per line item), copied
# from the OpenAPI files (credit notes, customer payments); anything else is refused, as
# the stricter reading of an undocumented field. Allowed beyond the schema: only the
# genuine spec defects listed in ``SPEC_DEFECTS`` (facts §12), each with its reason.

CREDIT_NOTE_FIELDS = frozenset(
    # credit-notes.yml, create_credit_note (POST /creditnotes) request body
    {"customer_id", "currency_id", "contact_persons_associated", "date", "is_draft"}
    | {"exchange_rate", "line_items", "location_id", "creditnote_number", "gst_treatment"}
    | {"tax_treatment", "is_reverse_charge_applied", "gst_no", "cfdi_usage"}
    | {"cfdi_reference_type", "place_of_supply", "ignore_auto_number_generation"}
    | {"reference_number", "custom_fields", "tags", "notes", "terms", "template_id", "tax_id"}
    | {"tax_authority_id", "tax_exemption_id", "avatax_use_code", "avatax_exempt_no"}
    | {"vat_treatment", "is_inclusive_tax", "avatax_tax_code"}
)
CREDIT_NOTE_LINE_FIELDS = frozenset(
    {"item_id", "invoice_id", "invoice_item_id", "description", "code", "name", "type"}
    | {"account_id", "account_name", "quantity", "tax_id", "tds_tax_id", "tax_treatment_code"}
    | {"product_type", "sat_item_key_code", "unitkey_code", "serial_numbers", "location_id"}
    | {"project_id", "tags", "line_item_category"}
)
PAYMENT_FIELDS = frozenset(
    # customer-payments.yml, create_customer_payment (POST /customerpayments) request body
    {"customer_id", "payment_mode", "amount", "date", "reference_number", "description"}
    | {"invoices", "exchange_rate", "payment_form", "bank_charges", "custom_fields"}
    | {"location_id", "invoice_id", "amount_applied", "account_id", "contact_persons"}
    | {"retainerinvoice_id", "tags"}
)
PAYMENT_INVOICE_FIELDS = frozenset({"invoice_id", "amount_applied", "tax_amount_withheld"})

RECEIPT_FIELDS = frozenset(
    # sales-receipt.yml, create_sales_receipt (POST /salesreceipts) request body
    {"customer_id", "receipt_number", "date", "payment_mode", "line_items", "notes", "terms"}
    | {"tags"}
)
RECEIPT_LINE_FIELDS = frozenset(
    {"item_id", "rate", "quantity", "tax_id", "tags", "line_item_category"}
)
RECEIPT_UPDATE_FIELDS = frozenset(
    # sales-receipt.yml, update_sales_receipt (PUT /salesreceipts/{sales_receipt_id})
    {"customer_id", "receipt_number", "date", "payment_mode", "line_items", "notes", "tags"}
)
RECEIPT_UPDATE_LINE_FIELDS = frozenset(
    {"item_id", "rate", "quantity", "tags", "line_item_category"}
)

SPEC_DEFECTS: dict[str, frozenset[str]] = {
    # Defect 5 (facts §12, §7.5): create-credit-note's line omits ``rate`` although every
    # credit-note response carries it and a line without a price credits nothing.
    "creditnotes.line": frozenset({"rate"}),
    # update_sales_receipt's line omits ``tax_id`` (and the body ``terms``) that
    # create_sales_receipt declares for the same lines: an update could not keep a line's
    # tax, which no accounting API does -- read as an omission of the spec.
    "salesreceipts.update.line": frozenset({"tax_id"}),
    "salesreceipts.update": frozenset({"terms"}),
}

# customer-payments.yml ``payment_mode``: "check, cash, creditcard, banktransfer,
# bankremittance, autotransaction or others".
PAYMENT_MODES = frozenset(
    {"check", "cash", "creditcard", "banktransfer", "bankremittance", "autotransaction", "others"}
)
# sales-receipt.yml ``payment_mode``: "Allowed values: cash, check, credit_card,
# bank_transfer, etc." -- the receipt spelling (facts §12 defect 9). "etc." is read as the
# customer-payment list in the receipt spelling; nothing else is accepted.
RECEIPT_PAYMENT_MODES = frozenset(
    {"cash", "check", "credit_card", "bank_transfer", "bank_remittance", "auto_transaction"}
    | {"others"}
)


def _refuse_unknown(where: str, sent: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(sent) - allowed - SPEC_DEFECTS.get(where, frozenset()))
    if unknown:
        raise ZohoError(
            400,
            2,
            f"Invalid field(s) for {where}: {', '.join(unknown)} (not in the request schema).",
        )


def sales_receipt_request(body: dict[str, Any], *, update: bool = False) -> None:
    """Only the documented fields of a sales receipt, and a documented ``payment_mode``.

    sales-receipt.yml, create_sales_receipt (POST /salesreceipts) and update_sales_receipt
    (PUT /salesreceipts/{id}) request bodies (facts §7.6, §15 "Sales receipt fields"): no
    discount, shipping, adjustment, ``is_inclusive_tax``, ``currency_id``/``exchange_rate``,
    deposit ``account_id``, ``reference_number``, custom fields, and lines only
    ``{item_id, rate, quantity, tax_id, tags, line_item_category}`` -- so no description-only
    line (``item_id`` is the line's only way to say what was sold; required here as the
    stricter reading). Everything else is refused (stricter reading).
    """
    where = "salesreceipts.update" if update else "salesreceipts"
    _refuse_unknown(where, body, RECEIPT_UPDATE_FIELDS if update else RECEIPT_FIELDS)
    for raw in body.get("line_items") or []:
        if isinstance(raw, dict):
            _refuse_unknown(
                f"{where}.line", raw, RECEIPT_UPDATE_LINE_FIELDS if update else RECEIPT_LINE_FIELDS
            )
            if not raw.get("item_id"):
                raise ZohoError(400, 2, "A sales receipt line item needs an item_id.")
    mode = body.get("payment_mode")
    if mode not in (None, "") and mode not in RECEIPT_PAYMENT_MODES:
        raise ZohoError(400, 2, f"Invalid value passed for payment_mode: {mode}")


def invoice_request(body: dict[str, Any]) -> None:
    """``shipping_charge_tax_id`` is in no request schema (invoices.yml POST/PUT /invoices;
    facts §15 "shipping_charge_tax_id": seen only in responses and one integration's
    payload): refused, the stricter reading. A taxed shipping charge is a taxed line."""
    if "shipping_charge_tax_id" in body:
        raise ZohoError(
            400,
            2,
            "Invalid field(s) for invoices: shipping_charge_tax_id (not in the request schema).",
        )


def credit_note_request(body: dict[str, Any]) -> None:
    """Only the documented fields of a credit note (with line ``rate``, defect 5)."""
    _refuse_unknown("creditnotes", body, CREDIT_NOTE_FIELDS)
    for raw in body.get("line_items") or []:
        if isinstance(raw, dict):
            _refuse_unknown("creditnotes.line", raw, CREDIT_NOTE_LINE_FIELDS)


def payment_request(body: dict[str, Any]) -> None:
    """Only the documented fields of a customer payment, and a documented ``payment_mode``.

    ``invoices`` is required (customer-payments.yml create_customer_payment ``required``)
    and declares no minimum length: an advance (an unapplied payment, customer credit) is
    ``invoices: []`` -- its documented shape; a body without the list is refused.
    """
    _refuse_unknown("customerpayments", body, PAYMENT_FIELDS)
    if not isinstance(body.get("invoices"), list):
        raise ZohoError(400, 2, "invoices is required (an empty list for an advance payment).")
    for raw in body.get("invoices") or []:
        if isinstance(raw, dict):
            _refuse_unknown("customerpayments.invoices", raw, PAYMENT_INVOICE_FIELDS)
    mode = body.get("payment_mode")
    if mode not in (None, "") and mode not in PAYMENT_MODES:
        raise ZohoError(400, 2, f"Invalid value passed for payment_mode: {mode}")


# ---------------------------------------------------------------------------- custom fields
# How each module's request schema addresses a custom field on a write (facts §15 "Custom
# fields on writes"). No request schema declares ``api_name``: it is refused everywhere.
CUSTOM_FIELD_KEYS: dict[str, frozenset[str]] = {
    # invoices.yml POST/PUT /invoices: custom_fields[{customfield_id, value}]
    "invoices": frozenset({"customfield_id", "value"}),
    # credit-notes.yml POST /creditnotes types the items as strings, contradicted by the same
    # file's responses ({index, value, label} objects) and by every other module: read as the
    # invoices' shape (the spec defect the contract tests patch, tests/zohobooks/contract.py).
    "creditnotes": frozenset({"customfield_id", "value"}),
    # contacts.yml POST /contacts {index, value}; PUT /contacts/{id} {index, label, value}.
    # ``label`` on a create is the update's own addressing of the same list (allowed as the
    # narrow defect); ``index`` (a position 1-10) is refused below: which field it names is
    # not stable (stricter reading).
    "contacts": frozenset({"index", "label", "value"}),
    # customer-payments.yml POST /customerpayments: custom_fields[{label, value}]
    "customerpayments": frozenset({"label", "value"}),
}


def custom_field_entry(module: str, raw: Any) -> tuple[str, str]:
    """``(how, key)`` of one ``custom_fields`` entry: ``("customfield_id", id)`` or
    ``("label", label)``, as the module's request schema allows (``CUSTOM_FIELD_KEYS``)."""
    allowed = CUSTOM_FIELD_KEYS.get(module)
    if allowed is None:
        raise ZohoError(
            400, 2, f"Invalid field(s) for {module}: custom_fields (not in the request schema)."
        )
    if not isinstance(raw, dict):
        raise ZohoError(400, 2, f"Invalid value passed for custom_fields: {raw!r}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ZohoError(
            400,
            2,
            f"Invalid field(s) for {module}.custom_fields: {', '.join(unknown)} "
            f"(the request schema declares {', '.join(sorted(allowed))}).",
        )
    if raw.get("customfield_id") not in (None, ""):
        return "customfield_id", str(raw["customfield_id"])
    if raw.get("label") not in (None, ""):
        return "label", str(raw["label"])
    raise ZohoError(
        400, 2, f"Invalid value passed for custom_fields: {raw!r} names no custom field."
    )
