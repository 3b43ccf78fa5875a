"""`failures` explains a parked record (what, why, retry safe); after the mapping is
edited, `replay` posts it; `audit` lists its writes in order with their outcomes."""

from __future__ import annotations

from decimal import Decimal

from demo.run import fix_mapping
from demo.world import PAYPAL_GATEWAY
from ledgerbridge.exitcodes import ExitCode

from .conftest import Operator


def test_failures_explain_the_parked_order_and_replay_posts_it_after_the_fix(
    operator: Operator,
) -> None:
    world = operator.world
    operator.cli("sync", "west-orders", code=ExitCode.PARKED)  # the PayPal order is parked
    [row] = operator.json("failures", "--state", "needs_mapping", code=ExitCode.PARKED)
    paid_by_paypal = next(
        str(oid) for oid, o in world.saved.woo.orders.items()
        if o["payment_method"] == PAYPAL_GATEWAY
    )  # fmt: skip
    # what record, why (class + the missing key + where to add it), and whether retry is safe
    assert row["record"] == f"order {paid_by_paypal}"
    assert row["pipeline"] == "west-orders" and row["tenant"] == "west"
    assert row["state"] == "needs_mapping"
    assert row["error_class"] == "NeedsMapping"
    assert f"payment_method:{PAYPAL_GATEWAY}" in row["why"]
    assert "lookups.payment_methods.entries" in row["why"]
    assert row["retry_safe"] is True
    table = operator.cli("failures", "--state", "needs_mapping", code=ExitCode.PARKED).stdout
    for expected in (f"order {paid_by_paypal}", "NeedsMapping", PAYPAL_GATEWAY, "yes"):
        assert expected in table, table
    org = world.org("west")
    assert not any(
        i["custom_field_hash"].get("cf_source_order_id") == paid_by_paypal
        for i in org.invoices.values()
    )

    assert fix_mapping(world)  # the YAML edit an integrator makes
    replayed = operator.cli("replay", "--state", "needs_mapping").stdout
    assert "west-orders" in replayed
    assert operator.json("failures", "--state", "needs_mapping") == []
    assert operator.cli("failures", "--state", "needs_mapping").stdout.strip() == "no failures"

    [invoice] = [
        i for i in org.invoices.values()
        if i["custom_field_hash"].get("cf_source_order_id") == paid_by_paypal
    ]  # fmt: skip
    order = world.saved.woo.orders[int(paid_by_paypal)]
    assert Decimal(str(invoice["total"])) == Decimal(order["total"])

    audit = operator.cli("audit", paid_by_paypal).stdout
    lines = [ln for ln in audit.splitlines() if "create_document" in ln or "record_payment" in ln]
    assert [("create_document" in ln) for ln in lines] == [True, False], audit
    assert all(" ok " in ln for ln in lines), audit


def test_audit_of_an_order_never_written_says_so(operator: Operator) -> None:
    done = operator.cli("audit", "999999", code=ExitCode.NOT_FOUND)
    assert "no writes recorded for order 999999" in done.stderr
