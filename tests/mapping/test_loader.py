"""Loading mapping files: every problem names file:line:column, at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerbridge.errors import ConfigError
from ledgerbridge.mapping import ExpressionFailed, load_mapping
from ledgerbridge.plan import DocumentKind, LookupKind

from .conftest import TENANT, two_rate_order

N = TENANT.count("\n")  # lines of the tenant file; appended text starts at line N + 1
PRESETS = Path(__file__).resolve().parents[2] / "mappings"


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    return [f"{loc}: {msg}" for loc, msg in caught.value.problems]


@pytest.mark.parametrize("preset", ["shopify", "woocommerce", "api2cart"])
def test_every_preset_loads(preset):
    rt = load_mapping(PRESETS / f"{preset}-to-zohobooks.yaml")
    assert rt.mapping.source == preset and rt.mapping.target == "zohobooks"
    assert rt.posting_policy == "invoice"
    assert "skip test orders" in rt.mapping.filters


def test_typo_in_a_key_points_at_it_and_suggests(write):
    path = write("extends: shopify-to-zohobooks\nshipping:\n  as: line\n  item_idd: '1'\n")
    found = problems(path)
    assert any(
        p.startswith(f"{path}:4:3: shipping.item_idd: unknown key 'item_idd'")
        and "did you mean 'item_id'?" in p
        for p in found
    ), found


def test_unknown_tax_name_in_a_rule_points_at_its_line(write):
    text = TENANT + (
        "lines:\n  rules:\n    - name: books\n      when: line.sku == 'B-1'\n      tax: VAT 17%\n"
    )
    path = write(text, "tax.yaml")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:{N + 5}:12: lines.rules.0.tax: unknown tax 'VAT 17%'")
    assert "did you mean 'VAT 7%'?" in problem or "did you mean 'VAT 10%'?" in problem
    assert "'VAT 10%', 'VAT 7%'" in problem


def test_bad_expressions_are_rejected_at_validation_time(write):
    syntax = write(TENANT + "document:\n  reference: order.number ~~ 'x'\n", "syntax.yaml")
    (problem,) = problems(syntax)
    assert problem.startswith(f"{syntax}:{N + 2}:14: document.reference: invalid expression")

    name = write(TENANT + "document:\n  reference: ordr.number\n", "name.yaml")
    (problem,) = problems(name)
    assert "unknown name 'ordr' (did you mean 'order'?)" in problem
    assert problem.startswith(f"{name}:{N + 2}:14:")

    attr = write(TENANT + "document:\n  notes: order.customer.emial\n", "attr.yaml")
    (problem,) = problems(attr)
    assert "Customer has no field 'emial' (did you mean 'email'?)" in problem

    scope = write(TENANT + "document:\n  notes: line.title\n", "scope.yaml")
    (problem,) = problems(scope)
    assert "unknown name 'line'" in problem and "order" in problem


def test_unsafe_expressions_are_refused(write):
    private = write(TENANT + "document:\n  notes: order.__class__.__mro__\n", "unsafe.yaml")
    (problem,) = problems(private)
    assert "Order has no field '__class__'" in problem
    # extra is free-form, so this one is only stopped by the sandbox, on evaluation
    rt = load_mapping(write(TENANT + "document:\n  notes: extra.__class__.__mro__\n", "u2.yaml"))
    with pytest.raises(ExpressionFailed) as caught:
        rt.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert "document.notes" in str(caught.value) and "u2.yaml" in str(caught.value)


def test_unknown_lookup_table_is_caught_at_load(write):
    path = write(TENANT + "document:\n  notes: \"lookup('salespepole', order.number)\"\n", "t.yaml")
    (problem,) = problems(path)
    assert "lookup table 'salespepole' is not defined" in problem
    assert problem.startswith(f"{path}:{N + 2}:10:")


def test_wrong_value_type_says_what_was_expected(write):
    path = write(TENANT + "posting_policy: monthly\n", "policy.yaml")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:{N + 1}:17: posting_policy:")
    assert "'invoice', 'sales_receipt' or 'daily_summary'" in problem


def test_errors_in_an_inherited_file_name_that_file(write, tmp_path):
    base = write("source: shopify\ntarget: zohobooks\nshipping:\n  as: line\n", "base.yaml")
    child = write("extends: base.yaml\nposting_policy: invoice\n", "child.yaml")
    (problem,) = problems(child)
    assert problem.startswith(f"{base}:4:3: shipping: shipping as a line needs 'item_id'")


def test_extends_missing_and_cycles(write):
    missing = write("extends: no-such-preset\n", "a.yaml")
    (problem,) = problems(missing)
    assert problem.startswith(f"{missing}:1:10: extends: 'no-such-preset' is neither")
    write("extends: c.yaml\nsource: x\ntarget: y\n", "b.yaml")
    cyc = write("extends: b.yaml\n", "c.yaml")
    assert any("makes a cycle" in p for p in problems(cyc))


def test_tenant_changes_only_what_differs(tenant):
    preset = load_mapping(PRESETS / "shopify-to-zohobooks.yaml")
    assert tenant.mapping.shipping.send_as == "line" and preset.mapping.shipping.send_as == "charge"
    assert (
        tenant.mapping.document.custom_fields.keys() == preset.mapping.document.custom_fields.keys()
    )
    # dicts merge key by key: the preset's gateways stay, the tenant's are added/replaced
    methods = tenant.mapping.lookups.payment_methods.entries
    assert methods["paypal"].payment_mode == "others"
    assert methods["shopify_payments"].account_id == "4600000000003610001"
    assert tenant.mapping.filters.keys() == preset.mapping.filters.keys()


def test_named_references_carry_positions(tenant):
    refs = {(r.kinds, r.value): r for r in tenant.references}
    vat7 = refs[((LookupKind.TAXES,), "4600000000170950001")]
    assert vat7.where == "lookups.taxes.entries.1.tax_id"
    assert str(vat7.location).endswith("tenant.yaml:9:45")
    ship = refs[((LookupKind.ITEMS,), "4600000000990010001")]
    assert str(ship.location).endswith("tenant.yaml:4:12")
    modes = {r.value for r in tenant.references if r.kinds == (LookupKind.PAYMENT_MODES,)}
    assert {"creditcard", "banktransfer"} <= modes


def test_unquoted_long_ids_stay_exact(write):
    rt = load_mapping(
        write(
            "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    entries:\n"
            "      - {rate: 0.07, tax_id: 8754310000010306009}\n",
            "ids.yaml",
        )
    )
    assert rt.mapping.lookups.taxes.entries[0].tax_id == "8754310000010306009"


def test_typo_hints_use_the_yaml_key_not_the_python_name(write):
    path = write("extends: shopify-to-zohobooks\nshipping:\n  ass: line\n", "alias.yaml")
    (problem,) = problems(path)
    assert problem == f"{path}:3:3: shipping.ass: unknown key 'ass' (did you mean 'as'?)"


def test_summary_contact_name_is_configurable(write):
    rt = load_mapping(write(TENANT + "summary:\n  contact_name: Shop takings\n", "s.yaml"))
    assert rt.mapping.summary.contact_name == "Shop takings"
    assert load_mapping(write(TENANT, "d.yaml")).mapping.summary.contact_name == "Daily sales"


def test_unknown_time_zone_is_rejected_at_its_line(write):
    path = write(TENANT + "timezone: Europe/Berlni\n", "tz.yaml")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:{N + 1}:11: timezone: unknown time zone 'Europe/Berlni'")


def test_huge_powers_cannot_stall_a_worker(write):
    with pytest.raises(ConfigError, match="exponent 100000000 is larger than 64"):
        load_mapping(write(TENANT + "document:\n  notes: 2 ** 100000000\n", "const.yaml"))
    notes = "2 ** (100000000 + order.lines | length)"  # not a constant: checked when run
    rt = load_mapping(write(TENANT + f"document:\n  notes: {notes}\n", "pow.yaml"))
    with pytest.raises(ExpressionFailed) as caught:
        rt.document(two_rate_order(), DocumentKind.INVOICE, [])
    assert "is larger than 64" in str(caught.value)


def test_an_entry_that_can_never_match_is_an_error(write):
    path = write(
        "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    match_by: title\n    entries:\n"
        "      - {rate: 0.1, tax_id: '1'}\n",
        "never.yaml",
    )
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:6:9: lookups.taxes.entries.0: match_by is 'title'")
    # Under match_by rate a title-only entry is not such an entry: it matches, by title, a
    # source tax that states no rate (an API2Cart cart's order-level tax).
    path = write(
        "extends: shopify-to-zohobooks\nlookups:\n  taxes:\n    match_by: rate\n    entries:\n"
        "      - {title: VAT, tax_id: '1'}\n",
        "titled.yaml",
    )
    load_mapping(path)  # no ConfigError
