"""The fast path of mapping expressions gives exactly what Jinja2 gives.

Every expression here is compiled twice -- as the loader compiles it (plain
Python where ``_fast`` proves it safe) and with ``fast=False`` (always Jinja2) --
and evaluated on real canonical orders: the values must be equal and of the
same type, and a failure must be the same ``ExpressionFailed`` with the same
cause (type and message).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.canonical import Order
from ledgerbridge.engine.planner import PostedDocument, PriorState, plan_order
from ledgerbridge.mapping import ExpressionFailed, compile_expression, load_mapping, schema
from ledgerbridge.mapping.expressions import (
    FEE_SCOPE,
    LINE_SCOPE,
    ORDER_SCOPE,
    PAYMENT_SCOPE,
    REFUND_SCOPE,
    SHIPPING_SCOPE,
    Expression,
)
from ledgerbridge.mapping.runtime import MappingRuntime
from tests.canonical_factory import m

from .conftest import TENANT, book_refund, two_rate_order

# --------------------------------------------------------------------------- orders


def _orders() -> list[Order]:
    base = two_rate_order()
    data = base.model_dump()
    billing = {"first_name": "Ann", "last_name": "Lee", "city": "Berlin", "email": "a@x.de"}
    return [
        base,
        # A guest: no customer at all, a note, a billing address, a processed date.
        two_rate_order(
            customer=None,
            note="leave at the door",
            billing_address=billing,
            processed_at="2026-01-06T08:30:00+00:00",
        ),
        # A guest customer without email; a test order in draft.
        two_rate_order(
            customer={
                "source": {"platform": "shopify", "store": "acme", "external_id": "g1"},
                "is_guest": True,
                "company": "Lee GmbH",
            },
            email=None,
            test=True,
            status="draft",
            tags=["b2b"],
            extra={"channel": "pos"},
        ),
        # A refund, a fee, a shipping discount, an unknown gateway, no payment reference.
        Order.model_validate(
            {
                **data,
                "fees": [{"name": "Tip", "kind": "tip", "amount": m("3.00")}],
                "shipping_lines": [
                    {
                        "title": "Express",
                        "code": "EXP",
                        "price": m("6.00"),
                        "discount": m("1.00"),
                        "taxes": [{"title": "VAT 10%", "rate": "0.10", "amount": m("0.50")}],
                    }
                ],
                "totals": {"total": m("60.40"), "tax": m("4.40")},
                "payments": [
                    {
                        "external_id": "T1",
                        "kind": "sale",
                        "status": "success",
                        "amount": m("60.40"),
                        "gateway": "klarna",
                        "reference": "ch_1",
                    }
                ],
                "refunds": [book_refund(reason="damaged")],
            }
        ),
    ]


def _names(order: Order, **more: Any) -> dict[str, Any]:
    return {
        "order": order,
        "customer": order.customer,
        "extra": order.extra,
        "options": {"region": "EU"},
        "lookup": lambda table, key: f"{table}:{key}",
        **more,
    }


def _scopes(order: Order) -> dict[frozenset[str], list[dict[str, Any]]]:
    """Every scope with the names an evaluation in it gets, for each of the order's parts."""
    by_scope: dict[frozenset[str], list[dict[str, Any]]] = {ORDER_SCOPE: [_names(order)]}
    by_scope[LINE_SCOPE] = [_names(order, line=line) for line in order.lines]
    by_scope[SHIPPING_SCOPE] = [_names(order, shipping=s) for s in order.shipping_lines]
    by_scope[FEE_SCOPE] = [_names(order, fee=fee) for fee in order.fees]
    by_scope[REFUND_SCOPE] = [_names(order, refund=r) for r in order.refunds]
    by_scope[PAYMENT_SCOPE] = [_names(order, payment=p) for p in order.payments]
    return by_scope


# --------------------------------------------------------------------------- expressions

# Expressions (and templates) the fast path takes: attribute chains over canonical
# objects and the operators around them.
FAST_BY_SCOPE: dict[frozenset[str], list[str]] = {
    ORDER_SCOPE: [
        "order.number",
        "order.currency",
        "order.test",
        "order.status",
        "order.financial_status",
        "order.created_at",
        "order.processed_at",
        "order.note",
        "order.email",
        "order.tags",
        "order.lines",
        "order.extra",
        "order",
        "customer",
        "order.customer",
        "order.customer.email",
        "order.customer.display_name",
        "order.customer.billing_address.city",
        "customer.email",
        "customer.source.external_id",
        "customer.first_name ~ ' ' ~ customer.last_name",
        "order.billing_address.name",
        "order.billing_address.city",
        "order.totals.total",
        "order.totals.total.amount",
        "order.totals.tax.amount",
        "order.amount_received.amount",
        "order.is_cancelled",
        "order.source.key",
        "order.processed_at or order.created_at",
        "order.note or none",
        "order.note or 'no note'",
        "order.test and order.number",
        "order.customer and order.customer.email",
        "not order.test",
        "not order.customer",
        "not not order.note",
        "order.status == 'draft'",
        "order.status != 'draft'",
        "order.status in ['draft', 'failed']",
        "order.status not in ('draft', 'failed')",
        "order.financial_status not in ['paid', 'partially_refunded']",
        "order.currency == 'USD'",
        "order.totals.total.amount > 50",
        "order.totals.total.amount >= 57.4",
        "order.totals.total.amount <= 57.40",
        "0 < order.totals.total.amount < 100",
        "100 < order.totals.total.amount < order.customer.email",
        "order.totals.total.amount < 100 < order.customer.email",
        "order.customer.email > 1",
        "order.number in order.tags",
        "'b2b' in order.tags",
        "order.number ~ '-' ~ order.currency",
        "'Walk-in customer (' ~ order.currency ~ ')'",
        "order.totals.total.amount ~ ''",
        "order.test ~ order.processed_at ~ none",
        "order.customer.email ~ '!'",
        "customer.source.external_id if customer else none",
        "customer.source.external_id if customer and not customer.is_guest else none",
        "order.note if order.note else order.number",
        "['a', order.number]",
        "(order.number, order.currency)",
        "'constant'",
        "42",
        "1.5",
        "none",
        "true",
        # templates
        "Order {{ order.number }}",
        "{{ order.number }} / {{ order.totals.total.amount }} / {{ order.test }} / {{ order.note }}",
        "Customer {{ order.customer.email }}",
        "{{ customer.display_name }} <{{ order.email }}>",
        "{{- order.number -}}   tail",
        "a\r\nb {{ order.number }}\rc",
        "{{ 'x' ~ order.currency }}",
        "{{ order.processed_at or order.created_at }}",
        "{{ none }} {{ 1.5 }} {{ true }} {{ order.lines }}",
        "{{ order.status }}{# a comment #}!",
    ],
    LINE_SCOPE: [
        "line.title",
        "line.sku",
        "line.quantity",
        "line.unit_price.amount",
        "line.gross.amount",
        "line.net.amount",
        "line.discount.amount",
        "line.discount",
        "line.sku or line.title",
        "line.taxable and not line.is_gift_card",
        "line.sku == 'W-1'",
        "line.title ~ ' x' ~ line.quantity",
        "{{ line.quantity }} x {{ line.title }}",
        "line.taxes",
    ],
    SHIPPING_SCOPE: ["shipping.title", "shipping.net.amount", "shipping.code", "shipping.discount"],
    FEE_SCOPE: ["fee.name", "fee.amount.amount", "fee.kind == 'tip'", "{{ fee.name }}"],
    REFUND_SCOPE: [
        "refund.reason or refund.note",
        "refund.credit_total.amount",
        "refund.money_returned.amount",
        "refund.source.external_id",
        "Refund {{ refund.source.external_id }} of {{ order.number }}",
    ],
    PAYMENT_SCOPE: [
        "payment.reference or payment.external_id",
        "payment.is_money_in",
        "payment.gateway",
        "payment.amount.amount",
    ],
}
FAST = [(scope, source) for scope, sources in FAST_BY_SCOPE.items() for source in sources]

# What stays on Jinja2: subscripts, calls, filters, tests, arithmetic, free-form
# mappings, methods, inline ifs without else, statements in templates.
JINJA: list[tuple[frozenset[str], str]] = [
    (ORDER_SCOPE, source)
    for source in [
        "order.lines[0].sku",
        "order.all_tax_lines()",
        "order.all_tax_lines",
        "order.reconciliation",
        "order.number | lower",
        "order.note is none",
        "order.totals.total.amount * 2",
        "-order.totals.total.amount",
        "lookup('channels', order.number)",
        "extra.channel",
        "extra.get('channel')",
        "order.extra.channel",
        "options.region",
        "order.number if order.test",
        "order.number.upper()",
        "order.customer.email.upper",
        "{% if order.test %}T{% endif %}",
        "{{ order.number | lower }}",
        "{{ extra.channel }}",
    ]
]


def _both(scope: frozenset[str], source: str) -> tuple[Expression, Expression]:
    fast = compile_expression(source, scope)
    slow = compile_expression(source, scope, fast=False)
    assert slow.fast is False
    return fast, slow


def _outcome(expr: Expression, names: dict[str, Any]) -> tuple[Any, ...]:
    try:
        value = expr.evaluate(names)
    except ExpressionFailed as exc:
        cause = exc.__cause__
        return ("failed", str(exc), exc.details, type(cause), str(cause))
    return ("ok", type(value), value)


@pytest.mark.parametrize(("scope", "source"), FAST, ids=[s for _, s in FAST])
def test_fast_expressions_equal_jinja(scope: frozenset[str], source: str) -> None:
    fast, slow = _both(scope, source)
    assert fast.fast, f"`{source}` should take the fast path"
    assert fast.is_template == slow.is_template
    evaluated = 0
    for order in _orders():
        for names in _scopes(order)[scope]:
            assert _outcome(fast, names) == _outcome(slow, names), source
            evaluated += 1
    assert evaluated


@pytest.mark.parametrize(("scope", "source"), JINJA, ids=[s for _, s in JINJA])
def test_everything_else_stays_on_jinja(scope: frozenset[str], source: str) -> None:
    fast, slow = _both(scope, source)
    assert not fast.fast, f"`{source}` must stay on Jinja2"
    for order in _orders():
        for names in _scopes(order)[scope]:
            assert _outcome(fast, names) == _outcome(slow, names), source


def test_a_gap_in_a_chain_fails_like_strict_undefined() -> None:
    guest = _orders()[1]
    fast, slow = _both(ORDER_SCOPE, "order.customer.email")
    with pytest.raises(ExpressionFailed) as caught:
        fast.evaluate(_names(guest))
    assert "`order.customer.email` failed: 'None' has no attribute 'email'" in str(caught.value)
    assert _outcome(fast, _names(guest)) == _outcome(slow, _names(guest))


def test_a_missing_name_fails_like_jinja() -> None:
    order = _orders()[0]
    for source in ["line.title", "{{ line.title }}", "line.sku or order.number"]:
        fast, slow = _both(LINE_SCOPE, source)
        assert fast.fast
        outcome = _outcome(fast, _names(order))
        assert outcome[0] == "failed" and "'line' is undefined" in outcome[1]
        assert outcome == _outcome(slow, _names(order))


def test_objects_of_another_type_go_through_the_sandbox() -> None:
    """The fast path reads attributes directly only off the canonical type it proved;
    anything else (a dict, a stand-in object) is read by the sandbox, as Jinja2 reads it."""

    class Stub:
        number = "S-1"
        _secret = "no"

        @property
        def currency(self) -> str:
            return "EUR"

    for order in [{"number": "D-1", "currency": "USD"}, Stub(), None, 7]:
        names = {"order": order, "customer": None, "extra": {}, "options": {}}
        for source in [
            "order.number",
            "order.number ~ order.currency",
            "Order {{ order.number }}",
            "order.number or 'none'",
        ]:
            fast, slow = _both(ORDER_SCOPE, source)
            assert fast.fast
            assert _outcome(fast, names) == _outcome(slow, names), (order, source)


def test_values_keep_their_type() -> None:
    order = _orders()[0]
    total = compile_expression("order.totals.total.amount", ORDER_SCOPE).evaluate(_names(order))
    assert type(total) is Decimal and total == Decimal("57.40")
    assert compile_expression("order.test", ORDER_SCOPE).evaluate(_names(order)) is False
    customer = compile_expression("order.customer", ORDER_SCOPE).evaluate(_names(order))
    assert customer is order.customer


def test_constants_from_yaml_are_unchanged() -> None:
    for value in [None, True, 3, Decimal("0.19")]:
        fast, slow = _both(ORDER_SCOPE, value)  # type: ignore[arg-type]
        assert fast.evaluate({}) == slow.evaluate({}) == value


# --------------------------------------------------------------------------- whole plans


def _jinja_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mapping files compiled from now on evaluate every expression through Jinja2."""
    monkeypatch.setattr(
        schema, "compile_expression", functools.partial(compile_expression, fast=False)
    )


EXTRA_RULES = """\
contact:
  custom_fields:
    cf_note: "Order {{ order.number }} ({{ order.currency }})"
document:
  notes: "{{ order.note or 'thanks' }} -- {{ customer.display_name if customer else 'guest' }}"
lines:
  rules:
    - name: books
      when: "line.sku == 'B-1' and line.taxable"
      account_id: "777"
      description: "{{ line.quantity }} x {{ line.title }}"
fees:
  as: line
"""


@pytest.mark.parametrize("extra_rules", ["", EXTRA_RULES])
@pytest.mark.parametrize("policy", ["invoice", "sales_receipt"])
def test_plans_are_identical_with_and_without_the_fast_path(
    write, monkeypatch: pytest.MonkeyPatch, extra_rules: str, policy: str
) -> None:
    text = TENANT + "  fee_accounts:\n    entries: {tip: '4600000000005550001'}\n" + extra_rules
    fast_rt = load_mapping(write(text, "fast.yaml"))
    _jinja_only(monkeypatch)
    slow_rt = load_mapping(write(text, "slow.yaml"))
    assert isinstance(fast_rt, MappingRuntime) and isinstance(slow_rt, MappingRuntime)
    assert fast_rt.mapping.document.reference.fast
    assert not slow_rt.mapping.document.reference.fast

    posted = PriorState(document=PostedDocument(kind="invoice", target_id="9", snapshot={}))
    outcomes = []
    for order in _orders():
        for prior in [PriorState(), posted]:
            results = []
            for rt in (fast_rt, slow_rt):
                try:
                    plan = plan_order(order, rt, policy, prior)
                except Exception as exc:  # the same failure both ways counts as equal
                    results.append((type(exc), str(exc).replace("slow.yaml", "fast.yaml")))
                else:
                    results.append(plan)
            assert results[0] == results[1]
            outcomes.append(results[0])
    assert any(not isinstance(o, tuple) and o.writes for o in outcomes)
