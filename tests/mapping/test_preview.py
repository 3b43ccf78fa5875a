"""Preview: the engine planner's path and the mapping's own fallback agree."""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.mapping.preview import preview_order

from .conftest import two_rate_order


def test_preview_plans_through_the_engine_planner(tenant):
    from ledgerbridge.engine.planner import plan_order

    order = two_rate_order()
    preview = preview_order(order, tenant)
    plan = plan_order(order, tenant, "invoice")
    assert preview.planner == "ledgerbridge.engine.planner"
    assert [w.draft for w in preview.writes] == [w.draft for w in plan.writes]
    assert [w.operation for w in preview.writes] == ["create_document", "record_payment"]


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
