"""Preview: the engine planner's path and the mapping's own fallback agree."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.mapping.preview import preview_order, preview_writes

from .conftest import two_rate_order


def test_fallback_composes_the_same_drafts(tenant):
    order = two_rate_order()
    own = preview_writes(order, tenant)
    assert [w.operation for w in own.writes] == ["create_document", "record_payment"]
    planned = preview_order(order, tenant)
    assert [w.draft for w in planned.writes] == [w.draft for w in own.writes]
    assert planned.contact == own.contact and planned.items == own.items


def test_daily_summary_preview_lists_summary_lines(write):
    from ledgerbridge.mapping import load_mapping

    from .conftest import TENANT

    rt = load_mapping(write(TENANT + "summary:\n  sales_accounts:\n    default: '4000'\n"))
    result = preview_order(two_rate_order(), rt, "daily_summary")
    (write_,) = result.writes
    assert write_.operation == "summary_lines"
    lines = write_.draft.model_dump()["lines"]
    assert {(ln["tax_id"], ln["account_id"], ln["rate"]) for ln in lines} == {
        ("4600000000170940001", "4000", str(Decimal("23.00"))),
        ("4600000000170950001", "4000", str(Decimal("30.00"))),
    }
