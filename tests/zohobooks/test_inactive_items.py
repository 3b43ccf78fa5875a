"""An item a merchant made inactive in Books still holds its SKU.

Books' item list takes ``filter_by`` (Status.All | Status.Active | Status.Inactive) and
documents no default; the emulator lists active items only unless asked (the stricter
reading). So every item list the connector reads asks for all: a look-up by SKU finds the
inactive item instead of creating a second item for the same SKU, both from the unit's
one-page copy and from a search."""

from __future__ import annotations

from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

from .test_idempotency import run


def _make_inactive(zoho, sku: str) -> str:
    org = zoho.state.organizations[MAIN_ORG]
    item = next(i for i in org.items.values() if i.get("sku") == sku)
    item["status"] = "inactive"
    return str(item["item_id"])


def test_an_inactive_item_is_found_by_its_sku_from_the_copy_and_by_search(zoho):
    inactive = _make_inactive(zoho, "SEED-MUG")

    async def unit(target):
        await target.prepare_lookups(items=1)
        from_copy = await target.find_item(sku="SEED-MUG")
        await target.prepare_lookups()  # no copy: the look-up searches
        searched = await target.find_item(sku="SEED-MUG")
        return from_copy, searched

    from_copy, searched = run(zoho, unit)
    assert from_copy is not None and from_copy.target_id == inactive
    assert searched is not None and searched.target_id == inactive
    reads = [ex.query for ex in zoho.exchanges if ex.path == "/items" and ex.method == "GET"]
    assert reads and all(q.get("filter_by") == "Status.All" for q in reads)
