"""The shape of a mapping file (validated with pydantic; errors carry file:line:column).

Every key is documented in ``docs/mappings.md``.  Expression-valued keys are
compiled while the file is validated (see ``expressions.py``), so a bad
expression is a ``ConfigError`` at ``validate`` time, never a failure mid-sync.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .expressions import (
    FEE_SCOPE,
    LINE_SCOPE,
    ORDER_SCOPE,
    PAYMENT_SCOPE,
    REFUND_SCOPE,
    SHIPPING_SCOPE,
    Expression,
    compile_expression,
)


def _compiler(scope: frozenset[str]) -> Callable[[Any], Expression]:
    def compile_value(value: Any) -> Expression:
        if isinstance(value, Expression):
            return value
        return compile_expression(value, scope)

    return compile_value


OrderExpr = Annotated[Expression, BeforeValidator(_compiler(ORDER_SCOPE))]
LineExpr = Annotated[Expression, BeforeValidator(_compiler(LINE_SCOPE))]
ShippingExpr = Annotated[Expression, BeforeValidator(_compiler(SHIPPING_SCOPE))]
FeeExpr = Annotated[Expression, BeforeValidator(_compiler(FEE_SCOPE))]
RefundExpr = Annotated[Expression, BeforeValidator(_compiler(REFUND_SCOPE))]
PaymentExpr = Annotated[Expression, BeforeValidator(_compiler(PAYMENT_SCOPE))]

PostingPolicy = Literal["invoice", "sales_receipt", "daily_summary"]
TargetId = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]
"""Target ids are strings; an unquoted 19-digit YAML number is accepted and kept exact."""

ContactField = Literal[
    "display_name", "email", "company", "first_name", "last_name", "phone", "currency"
]


class MappingModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


# --------------------------------------------------------------------------- lookups


class TaxEntry(MappingModel):
    """One source tax (by title and/or rate) -> one target tax id.

    ``name`` is how rules refer to this entry (``tax: VAT 20%``); it defaults
    to ``title``.  An entry with both ``title`` and ``rate`` wins over one
    with only one of them.
    """

    title: str | None = None
    rate: Decimal | None = None
    tax_id: TargetId
    name: str | None = None

    @model_validator(mode="after")
    def _needs_a_key(self) -> TaxEntry:
        if self.title is None and self.rate is None:
            raise ValueError("a tax entry needs 'title', 'rate' or both to match source taxes")
        return self

    @property
    def label(self) -> str:
        return self.name or self.title or f"rate {self.rate}"


class TaxTable(MappingModel):
    entries: list[TaxEntry] = Field(default_factory=list)
    default: TargetId | None = None
    untaxed: TargetId | None = None  # tax id for lines that carry no tax (None: no tax_id)
    match_by: Literal["title_and_rate", "title", "rate"] = "title_and_rate"


class PaymentMethod(MappingModel):
    payment_mode: str
    account_id: TargetId | None = None


class PaymentTable(MappingModel):
    """Source payment gateway -> target payment mode + deposit (clearing) account."""

    entries: dict[str, PaymentMethod] = Field(default_factory=dict)
    default: PaymentMethod | None = None


class AccountTable(MappingModel):
    """A key (fee kind, tax name, product group) -> target account id."""

    entries: dict[str, TargetId] = Field(default_factory=dict)
    default: TargetId | None = None


class CurrencyRules(MappingModel):
    """Which currencies may be posted (empty: any), in which currency a document is booked,
    and where its exchange rate comes from (docs/multi-currency.md).

    ``book_in``: ``shop`` books every amount in the shop currency (Shopify's shop money);
    ``presentment`` in the currency the customer paid in (Shopify's presentment money),
    with the rate the two stated amounts give. A source that states one currency only
    (WooCommerce, API2Cart) books in it either way.

    ``fallback_rate``: when the source states no rate, ``mapping`` takes
    ``exchange_rates``; ``target`` first asks the books for their own rate of the
    document's day (Zoho Books: the currency's exchange rates), then ``exchange_rates``.

    ``refund_rate``: a credit note is written at the ``original`` order's rate, or at the
    rate of the ``refund_day``.

    ``exchange_rates``: for a currency other than the books' base currency, how many
    base-currency units one unit is worth (e.g. ``EUR: 1.08`` for books kept in USD).
    Without a rate from anywhere a record waits in needs_mapping as
    ``exchange_rate:<currency>`` -- never booked at a silent 1.0.
    """

    accept: list[str] = Field(default_factory=list)
    book_in: Literal["shop", "presentment"] = "shop"
    fallback_rate: Literal["mapping", "target"] = "mapping"
    refund_rate: Literal["original", "refund_day"] = "original"
    exchange_rates: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("exchange_rates")
    @classmethod
    def _positive(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in rates.items():
            if rate <= 0:
                raise ValueError(f"exchange_rates.{code}: a rate must be positive, got {rate}")
        return rates


class Table(MappingModel):
    """A free lookup table for expressions: ``lookup('salespeople', order.source_name)``."""

    entries: dict[str, Any] = Field(default_factory=dict)
    default: Any = None


class Lookups(MappingModel):
    taxes: TaxTable = Field(default_factory=TaxTable)
    payment_methods: PaymentTable = Field(default_factory=PaymentTable)
    fee_accounts: AccountTable = Field(default_factory=AccountTable)
    currencies: CurrencyRules = Field(default_factory=CurrencyRules)
    tables: dict[str, Table] = Field(default_factory=dict)


# --------------------------------------------------------------------------- customer


MatchKey = Literal["xref", "email"]


def _default_match() -> list[MatchKey]:
    return ["xref", "email"]


class ContactRules(MappingModel):
    match: list[MatchKey] = Field(default_factory=_default_match)
    guests: Literal["per_email", "walk_in"] = "per_email"
    walk_in_name: OrderExpr = Field(
        default_factory=lambda: compile_expression(
            "'Walk-in customer (' ~ order.currency ~ ')'", ORDER_SCOPE
        )
    )
    fields: dict[ContactField, OrderExpr] = Field(default_factory=dict)
    custom_fields: dict[str, OrderExpr] = Field(default_factory=dict)


# --------------------------------------------------------------------------- document


class DocumentRules(MappingModel):
    reference: OrderExpr = Field(
        default_factory=lambda: compile_expression("order.number", ORDER_SCOPE)
    )
    date: OrderExpr = Field(
        default_factory=lambda: compile_expression(
            "order.processed_at or order.created_at", ORDER_SCOPE
        )
    )
    notes: OrderExpr | None = None
    custom_fields: dict[str, OrderExpr] = Field(default_factory=dict)
    fields: dict[str, OrderExpr] = Field(default_factory=dict)
    order_discounts: Literal["document", "adjustment"] = "document"
    rounding_description: str = "Rounding"


class LineRule(MappingModel):
    """Overrides for the lines an expression selects (first matching rule wins)."""

    name: str
    when: LineExpr
    tax: str | None = None
    item_id: TargetId | None = None
    account_id: TargetId | None = None
    description: LineExpr | None = None


class LineRules(MappingModel):
    match_items_by: Literal["sku", "none"] = "sku"
    without_sku: Literal["description", "needs_mapping"] = "description"
    description: LineExpr = Field(
        default_factory=lambda: compile_expression("line.title", LINE_SCOPE)
    )
    item_name: LineExpr = Field(
        default_factory=lambda: compile_expression("line.title", LINE_SCOPE)
    )
    item_account_id: TargetId | None = None
    rules: list[LineRule] = Field(default_factory=list)


class ShippingRules(MappingModel):
    send_as: Literal["charge", "line"] = Field("charge", alias="as")
    item_id: TargetId | None = None
    account_id: TargetId | None = None
    description: ShippingExpr = Field(
        default_factory=lambda: compile_expression("shipping.title", SHIPPING_SCOPE)
    )
    tax: str | None = None

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True
    )

    @model_validator(mode="after")
    def _line_needs_an_item_or_account(self) -> ShippingRules:
        if self.send_as == "line" and self.item_id is None and self.account_id is None:
            raise ValueError(
                "shipping as a line needs 'item_id' (the target item for shipping) "
                "or 'account_id' (an income account for a description line)"
            )
        return self


class FeeRules(MappingModel):
    send_as: Literal["line", "adjustment"] = Field("line", alias="as")
    description: FeeExpr = Field(default_factory=lambda: compile_expression("fee.name", FEE_SCOPE))
    tax: str | None = None

    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, populate_by_name=True
    )


class RefundRules(MappingModel):
    reference: RefundExpr = Field(
        default_factory=lambda: compile_expression("order.number", REFUND_SCOPE)
    )
    notes: RefundExpr | None = None
    custom_fields: dict[str, RefundExpr] = Field(default_factory=dict)
    # A refund of an amount only (no lines, no shipping) becomes one line on this account:
    # a credit note needs at least one line.
    adjustment_account_id: TargetId | None = None


class PaymentRules(MappingModel):
    reference: PaymentExpr = Field(
        default_factory=lambda: compile_expression(
            "payment.reference or payment.external_id", PAYMENT_SCOPE
        )
    )


class SummaryRules(MappingModel):
    """daily_summary: one line per tax (per currency) posted to an income account."""

    sales_accounts: AccountTable = Field(default_factory=AccountTable)
    shipping_account: TargetId | None = None
    contact_name: str = "Daily sales"  # the summary contact, one per currency: "<name> (USD)"


def _zone(value: str | None) -> str | None:
    if value is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. Europe/Berlin)") from None
    return value


class MappingFile(MappingModel):
    version: Literal[1] = 1
    source: str
    target: str
    extends: str | None = None
    description: str | None = None
    posting_policy: PostingPolicy = "invoice"
    timezone: Annotated[str | None, AfterValidator(_zone)] = (
        None  # IANA zone the books keep dates in (default: as the source says)
    )
    options: dict[str, Any] = Field(default_factory=dict)
    filters: dict[str, OrderExpr | None] = Field(default_factory=dict)
    contact: ContactRules = Field(default_factory=ContactRules)
    document: DocumentRules = Field(default_factory=DocumentRules)
    lines: LineRules = Field(default_factory=LineRules)
    shipping: ShippingRules = Field(default_factory=ShippingRules)
    fees: FeeRules = Field(default_factory=FeeRules)
    refunds: RefundRules = Field(default_factory=RefundRules)
    payments: PaymentRules = Field(default_factory=PaymentRules)
    summary: SummaryRules = Field(default_factory=SummaryRules)
    lookups: Lookups = Field(default_factory=Lookups)
