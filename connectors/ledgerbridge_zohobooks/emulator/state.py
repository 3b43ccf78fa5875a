"""In-memory Zoho Books data per organisation, and Zoho's document arithmetic.

Totals are computed the way Books computes them (facts doc §7.3, §8.3): line
``rate x quantity - discount``; an entity-level discount taken before tax and
spread over the lines in proportion; tax from each line's ``tax_id``
percentage (and the shipping charge's), rounded per tax at document level;
``is_inclusive_tax`` extracting tax from the amounts instead of adding it;
then shipping and the signed ``adjustment``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ZERO = Decimal(0)


class ZohoError(Exception):
    """An error the emulator answers with Zoho's envelope."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def money(value: Any, places: int = 2) -> Decimal:
    amount = dec(value)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def dec(value: Any, default: Decimal = ZERO) -> Decimal:
    if value in (None, ""):
        return default
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ZohoError(400, 2, f"Invalid value passed for amount: {value!r}")
    try:
        text = str(value).strip()
        if text.endswith("%"):
            raise ZohoError(400, 2, "percentage values are not supported by this emulator here")
        return Decimal(text)
    except ArithmeticError:
        raise ZohoError(400, 2, f"Invalid value passed for amount: {value!r}") from None


@dataclass
class Tax:
    tax_id: str
    tax_name: str
    tax_percentage: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "tax_id": self.tax_id,
            "tax_name": self.tax_name,
            "tax_percentage": self.tax_percentage,
            "tax_type": "tax",
            "is_default_tax": False,
            "is_editable": True,
        }


@dataclass
class CustomField:
    customfield_id: str
    api_name: str
    label: str
    unique: bool = False


@dataclass
class Organization:
    organization_id: str
    name: str
    currency_code: str = "USD"
    plan: str = "standard"
    price_precision: int = 2
    taxes: dict[str, Tax] = field(default_factory=dict)
    currencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    # currency_id -> its dated rates [{exchange_rate_id, effective_date, rate}] (currency.yml
    # list_exchange_rates); what Settings > Currencies > exchange rates holds.
    exchange_rates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    bank_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_fields: dict[str, dict[str, CustomField]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    salesreceipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    creditnotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        base = self.base_currency()
        return {
            "organization_id": self.organization_id,
            "name": self.name,
            "is_default_org": False,
            "currency_id": base["currency_id"] if base else "",
            "currency_code": self.currency_code,
            "price_precision": self.price_precision,
            "plan_type": 0,
            "plan_name": self.plan.upper(),
            "time_zone": "UTC",
            "fiscal_year_start_month": 0,
        }

    def places(self, currency: dict[str, Any] | None) -> int:
        """The price_precision amounts in ``currency`` are rounded to (facts §8.1, §7.8):
        the currency's own, else the organisation's."""
        found = (currency or {}).get("price_precision")
        return self.price_precision if found in (None, "") else int(found)

    def base_currency(self) -> dict[str, Any] | None:
        for row in self.currencies.values():
            if row["is_base_currency"]:
                return row
        return None

    def next_number(self, prefix: str) -> str:
        self.numbers[prefix] = self.numbers.get(prefix, 0) + 1
        return f"{prefix}-{self.numbers[prefix]:05d}"

    def tax(self, tax_id: Any) -> Tax | None:
        if tax_id in (None, ""):
            return None
        found = self.taxes.get(str(tax_id))
        if found is None:
            raise ZohoError(400, 2, f"Invalid value passed for tax_id: {tax_id}")
        return found

    def field_by_api_name(self, entity: str, api_name: str) -> CustomField | None:
        return self.custom_fields.get(entity, {}).get(api_name)


class Ids:
    """Zoho-like 19-digit string ids."""

    def __init__(self, start: int = 4_600_000_000_000_001_000) -> None:
        self._counter = itertools.count(start)

    def next(self) -> str:
        return str(next(self._counter))


@dataclass
class Computed:
    lines: list[dict[str, Any]]
    discount_type: str
    is_discount_before_tax: bool
    sub_total: Decimal
    discount_total: Decimal
    shipping_charge: Decimal
    tax_total: Decimal
    taxes: list[dict[str, Any]]
    adjustment: Decimal
    total: Decimal


def compute_document(
    org: Organization, body: dict[str, Any], places: int | None = None
) -> Computed:
    """Zoho's totals for an invoice, credit note or sales receipt body.

    The discount is taken in the one scope the body names (``rules.discount_scope``): line
    discounts reduce each line; an ``entity_level`` discount before tax is spread over the
    lines in proportion and reduces the taxable amounts, after tax it reduces the total only.
    """
    from .rules import discount_scope  # rules imports this module

    scope = discount_scope(body)
    # The document's currency's price_precision (``places``), else the organisation's:
    # amounts are rounded to the currency's precision (facts §8.1; each currency carries
    # its own, §7.8 -- 0 for JPY in a USD organisation).
    places = org.price_precision if places is None else places
    inclusive = bool(body.get("is_inclusive_tax", False))
    raw_lines = body.get("line_items") or []
    if not raw_lines:
        raise ZohoError(400, 4016, "Line items cannot be empty.")
    lines: list[dict[str, Any]] = []
    nets: list[Decimal] = []
    for index, raw in enumerate(raw_lines):
        if not isinstance(raw, dict):
            raise ZohoError(400, 2, "Invalid value passed for line_items")
        item = org.items.get(str(raw.get("item_id") or ""))
        if raw.get("item_id") and item is None:
            raise ZohoError(400, 2, f"Invalid value passed for item_id: {raw.get('item_id')}")
        if item is None and not (raw.get("description") or raw.get("name")):
            raise ZohoError(400, 2, "A line item needs an item or a description")
        rate = dec(raw.get("rate"), dec(item["rate"]) if item else ZERO)
        quantity = dec(raw.get("quantity"), Decimal(1))
        discount = dec(raw.get("discount"))
        net = money(rate * quantity - discount, places)
        tax = org.tax(raw.get("tax_id"))
        nets.append(net)
        lines.append(
            {
                "line_item_id": "",
                "item_id": str(raw.get("item_id") or ""),
                "name": raw.get("name") or (item["name"] if item else ""),
                "description": raw.get("description") or "",
                "item_order": index + 1,
                "rate": rate,
                "quantity": quantity,
                "discount": discount,
                "discount_amount": discount,
                "tax_id": tax.tax_id if tax else "",
                "tax_name": tax.tax_name if tax else "",
                "tax_percentage": tax.tax_percentage if tax else ZERO,
                "item_total": net,
                "account_id": str(raw.get("account_id") or ""),
            }
        )
    sub_total = sum(nets, ZERO)
    entity_discount = money(dec(body.get("discount")), places)
    shipping = money(dec(body.get("shipping_charge")), places)
    shipping_tax = org.tax(body.get("shipping_charge_tax_id"))
    tax_by_id: dict[str, Decimal] = {}

    def add_tax(tax: Tax | None, base: Decimal) -> None:
        if tax is None:
            return
        pct = tax.tax_percentage
        part = base * pct / (100 + pct) if inclusive else base * pct / 100
        tax_by_id[tax.tax_id] = tax_by_id.get(tax.tax_id, ZERO) + part

    spread = entity_discount if scope.before_tax else ZERO
    for line, net in zip(lines, nets, strict=True):
        share = spread * net / sub_total if sub_total else ZERO
        tax = org.taxes.get(line["tax_id"]) if line["tax_id"] else None
        add_tax(tax, net - share)
    add_tax(shipping_tax, shipping)
    rounded = {tax_id: money(amount, places) for tax_id, amount in tax_by_id.items()}
    taxes: list[dict[str, Any]] = [
        {"tax_id": tax_id, "tax_name": org.taxes[tax_id].tax_name, "tax_amount": amount}
        for tax_id, amount in rounded.items()
    ]
    tax_total = sum(rounded.values(), ZERO)
    adjustment = money(dec(body.get("adjustment")), places)
    total = sub_total - entity_discount + shipping + adjustment
    if not inclusive:
        total += tax_total
    return Computed(
        lines=lines,
        discount_type=scope.scope or "item_level",
        is_discount_before_tax=scope.before_tax,
        sub_total=sub_total,
        discount_total=entity_discount,
        shipping_charge=shipping,
        tax_total=tax_total,
        taxes=taxes,
        adjustment=adjustment,
        total=total,
    )


@dataclass
class EmulatorState:
    """Everything the emulator knows: organisations, OAuth clients, users and tokens."""

    organizations: dict[str, Organization] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)  # client_id -> client_secret
    user_orgs: dict[str, list[str]] = field(default_factory=dict)  # user -> org ids
    grant_codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (client, user)
    refresh_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # rt -> (client, user)
    access_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # at -> (user, exp)
    ids: Ids = field(default_factory=Ids)
    preset_access_tokens: list[str] = field(default_factory=list)  # handed out first (cassettes)
    token_requests: int = 0
    refresh_requests: int = 0
    code_exchanges: int = 0

    def add_org(self, org: Organization, *, users: tuple[str, ...] = ()) -> Organization:
        self.organizations[org.organization_id] = org
        for user in users:
            self.user_orgs.setdefault(user, []).append(org.organization_id)
        return org

    def issue_grant_code(self, client_id: str, user: str) -> str:
        code = f"1000.{self.ids.next()}.grant"
        self.grant_codes[code] = (client_id, user)
        return code

    def issue_refresh_token(self, client_id: str, user: str) -> str:
        token = f"1000.{self.ids.next()}.refresh"
        self.refresh_tokens[token] = (client_id, user)
        return token

    def revoke_refresh_tokens(self) -> None:
        self.refresh_tokens.clear()

    def minted(self, access_token: str, refresh_token: str) -> None:
        """Remember which refresh token an access token came from: Zoho mints access tokens
        per refresh token (facts doc §2.4, §2.8: at most 10 per refresh token per 10 minutes),
        so expiring or revoking one connection's tokens leaves another's alone."""
        vars(self).setdefault("minted_from", {})[access_token] = refresh_token  # older pickles

    def expire_access_tokens(self, refresh_tokens: Collection[str] | None = None) -> None:
        """Every access token expires -- or only those minted from ``refresh_tokens``."""
        origin: dict[str, str] = vars(self).get("minted_from", {})
        self.access_tokens = {
            k: (u, 0.0 if refresh_tokens is None or origin.get(k) in refresh_tokens else exp)
            for k, (u, exp) in self.access_tokens.items()
        }
