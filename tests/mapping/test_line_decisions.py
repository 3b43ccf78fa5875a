"""Line decisions taken once per plan: items and document lines see the same rule, link
and taxes, and the trace reads exactly as if each had decided afresh."""

from __future__ import annotations

import pytest

from ledgerbridge.engine.planner import plan_order
from ledgerbridge.errors import NeedsMapping
from ledgerbridge.mapping import LookupHit, MappingRuntime, load_mapping
from ledgerbridge.plan import DocumentKind
from tests.canonical_factory import m

from .conftest import TENANT, two_rate_order

RULES = (
    TENANT.replace(
        "lookups:\n",
        """lookups:
  tables:
    groups:
      entries: {B-1: books}
      default: other
""",
    )
    + """lines:
  rules:
    - name: books
      when: "lookup('groups', line.sku) == 'books'"
      tax: VAT 7%  # the book's own rate: a plan parks a line whose target tax differs
      account_id: "777"
"""
)


@pytest.fixture
def ruled(write) -> MappingRuntime:
    return load_mapping(write(RULES, "rules.yaml"))


def _count_rule_checks(runtime: MappingRuntime) -> list[int]:
    """Count evaluations of the first rule's ``when`` (one per line it is asked about)."""
    when = runtime.mapping.lines.rules[0].when
    calls = [0]
    run = when._run

    def counted(names):
        calls[0] += 1
        return run(names)

    when._run = counted
    return calls


def test_shared_decisions_give_the_same_drafts_and_trace_as_deciding_afresh(ruled):
    order = two_rate_order()
    afresh: list[LookupHit] = []
    items = ruled.items(order, afresh)
    document = ruled.document(order, DocumentKind.INVOICE, afresh)

    shared: list[LookupHit] = []
    lines = ruled.line_decisions(order)
    assert ruled.items(order, shared, lines) == items
    assert ruled.document(order, DocumentKind.INVOICE, shared, lines) == document
    assert shared == afresh
    # Both subjects keep their own entries: the rule's lookups for each line, then its tax.
    for subject in ("item W-1", "line L1", "item B-1", "line L2"):
        assert any(h.subject == subject and h.table == "taxes" for h in shared)
    rule_lookups = [h for h in shared if h.table == "tables.groups"]
    assert [(h.key, h.value) for h in rule_lookups] == [
        ("W-1", "other"),
        ("B-1", "books"),
        ("W-1", "other"),
        ("B-1", "books"),
    ]
    assert document.lines[1].account_id == "777"


def test_a_plan_evaluates_each_rule_once_per_line(ruled):
    calls = _count_rule_checks(ruled)
    plan = plan_order(two_rate_order(), ruled)
    assert calls[0] == 2  # two lines, each asked once (items), reused by the document
    assert [h for h in plan.trace if h.table == "tables.groups"] == [
        LookupHit("tables.groups", "W-1", "other", "expression", "default"),
        LookupHit("tables.groups", "B-1", "books", "expression"),
    ] * 2


def test_decisions_for_another_order_are_refused(ruled):
    lines = ruled.line_decisions(two_rate_order())
    with pytest.raises(ValueError, match="another order"):
        ruled.document(two_rate_order(), DocumentKind.INVOICE, [], lines)


def test_a_remembered_tax_choice_still_names_each_line_and_raises_each_time(tenant):
    """Tax choices are remembered per titles and rates; hits and messages still name the
    item or line at hand, and a miss raises for each of them."""
    lines = [
        {
            "line_id": line_id,
            "title": "Widget",
            "sku": sku,
            "quantity": 1,
            "unit_price": m("10.00"),
            "taxes": [{"title": "VAT 10%", "rate": rate, "amount": m("1.00")}],
        }
        for line_id, sku, rate in [("L1", "W-1", "0.10"), ("L2", "W-2", "0.1")]
    ]
    order = two_rate_order(lines=lines, shipping_lines=[], totals={"total": m("22.00")})
    plan = plan_order(order, tenant)
    taxes = [(h.key, h.subject) for h in plan.trace if h.table == "taxes"]
    assert taxes == [
        ("VAT 10% (0.10)", "item W-1"),
        ("VAT 10% (0.1)", "item W-2"),
        ("VAT 10% (0.10)", "line L1"),
        ("VAT 10% (0.1)", "line L2"),
    ]
    unmapped = [dict(line, taxes=[{"title": "GST", "rate": "0.05", "amount": m("0.50")}])
                for line in lines]  # fmt: skip
    order = two_rate_order(lines=unmapped, shipping_lines=[], totals={"total": m("21.00")})
    for subject in ("item W-1", "line L1"):
        with pytest.raises(NeedsMapping, match=f"on {subject};") as caught:
            if subject.startswith("item"):
                tenant.items(order, [])
            else:
                tenant.document(order, DocumentKind.INVOICE, [])
        assert caught.value.missing == "tax:GST (0.05)"
