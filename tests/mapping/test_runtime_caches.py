"""What the runtime remembers between orders changes no result: tax lookups and links."""

from __future__ import annotations

import pytest

from ledgerbridge.errors import NeedsMapping
from ledgerbridge.mapping import LookupHit, load_mapping
from ledgerbridge.plan import DocumentKind, Link
from tests.canonical_factory import m

from .conftest import TENANT, two_rate_order

VAT10, VAT7 = "4600000000170940001", "4600000000170950001"


def _with_rate(rate: str, title: str = "VAT 10%"):
    line = {
        "line_id": "L1",
        "title": "Widget",
        "sku": "W-1",
        "quantity": 1,
        "unit_price": m("10.00"),
        "taxes": [{"title": title, "rate": rate, "amount": m("1.00")}],
    }
    return two_rate_order(lines=[line], shipping_lines=[], totals={"total": m("11.00")})


def test_a_tax_looked_up_again_gives_the_same_entry_and_names_its_own_rate(tenant):
    """Equal rates written differently (0.10, 0.1, 0.100) find the same entry; each
    trace and message still shows the rate as the order states it."""
    for rate in ["0.10", "0.1", "0.100", "0.10"]:
        trace: list[LookupHit] = []
        doc = tenant.document(_with_rate(rate), DocumentKind.INVOICE, trace)
        assert doc.lines[0].tax_id == VAT10
        assert LookupHit("taxes", f"VAT 10% ({rate})", VAT10, "line L1") in trace
    for _ in range(2):  # a miss is remembered too, and still raises each time
        with pytest.raises(NeedsMapping) as caught:
            tenant.document(_with_rate("0.11"), DocumentKind.INVOICE, [])
        assert caught.value.missing == "tax:VAT 10% (0.11)"


def test_titles_still_match_normalised_after_caching(write):
    rt = load_mapping(
        write(
            "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    match_by: title\n    entries:\n"
            "      - {title: vat 10%, tax_id: '10'}\n",
            "title.yaml",
        )
    )
    for title in ["VAT 10%", "vat  10%", " Vat 10% ", "VAT 10%"]:
        doc = rt.document(_with_rate("0.10", title), DocumentKind.INVOICE, [])
        assert doc.lines[0].tax_id == "10"


def test_links_are_equal_values_whether_built_or_remembered(tenant):
    first = tenant.document(two_rate_order(), DocumentKind.INVOICE, [])
    again = tenant.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert first == again
    assert first.contact == Link(key="contact:shopify:acme:9001")
    assert first.lines[0].item == Link(key="item:sku:W-1")
    with pytest.raises(Exception, match="frozen"):
        first.contact.key = "changed"  # type: ignore[misc]
    assert again.contact.key == "contact:shopify:acme:9001"


def test_a_fresh_runtime_sees_its_own_mapping(write):
    """The tax cache belongs to one loaded mapping, never to another."""
    other = TENANT.replace('tax_id: "4600000000170940001"', 'tax_id: "999"')
    first = load_mapping(write(TENANT, "a.yaml"))
    second = load_mapping(write(other, "b.yaml"))
    order = two_rate_order()
    assert first.document(order, DocumentKind.INVOICE, []).lines[0].tax_id == VAT10
    assert second.document(order, DocumentKind.INVOICE, []).lines[0].tax_id == "999"
    assert second.document(order, DocumentKind.INVOICE, []).lines[1].tax_id == VAT7
