"""A unit's new contacts and items are looked up in one list page each, not a search each.

``prepare_lookups`` (called by the engine at every unit's start) reads the organisation's
contacts / items once; the unit's look-ups are answered from that copy, with the same exact
matching as a search; the next unit forgets it. Exactly-once is kept: a row created by
someone else before a unit's read is found; a create whose response is lost is searched for,
never answered from the copy; an organisation with more than one page is searched as before.
"""

from __future__ import annotations

from decimal import Decimal

from ledgerbridge.plan import ContactDraft, ItemDraft, Link
from ledgerbridge_zohobooks.emulator.seed import MAIN_ORG

from .test_idempotency import run


def _calls(zoho, path: str) -> list:
    return [ex for ex in zoho.exchanges if ex.path == path]


def _contacts(zoho) -> list[dict]:
    return list(zoho.state.organizations[MAIN_ORG].contacts.values())


def contact(email: str, currency: str = "USD") -> ContactDraft:
    name = email.split("@", maxsplit=1)[0].title()
    return ContactDraft(link=Link(key=f"c:{email}"), display_name=name, email=email,
                        currency=currency)  # fmt: skip


def test_one_page_answers_a_units_lookups_exactly(zoho):
    async def unit(target):
        await target.prepare_lookups(contacts=3, items=2)
        return (
            await target.find_contact(email="ADA@example.com"),  # seeded; any case
            await target.find_contact(email="ada@example"),  # a prefix is no match
            await target.find_contact(email="ada@example.com", currency="EUR"),  # other currency
            await target.find_item(sku="SEED-MUG"),
            await target.find_item(sku="SEED"),
        )

    ada, prefix, in_eur, mug, part = run(zoho, unit)
    org = zoho.state.organizations[MAIN_ORG]
    assert ada is not None and org.contacts[ada.target_id]["email"] == "ada@example.com"
    assert prefix is None and in_eur is None and part is None
    assert mug is not None and org.items[mug.target_id]["sku"] == "SEED-MUG"
    # one page each, no search
    assert [ex.query.get("per_page") for ex in _calls(zoho, "/contacts")] == ["200"]
    assert [ex.query.get("per_page") for ex in _calls(zoho, "/items")] == ["200"]
    assert not any("email" in ex.query or "search_text" in ex.query for ex in zoho.exchanges)


def test_what_the_unit_creates_is_in_its_copy_and_the_next_unit_forgets_it(zoho):
    async def units(target):
        await target.prepare_lookups(contacts=1)
        created = await target.create_contact(contact("new@example.com"))
        again = await target.find_contact(email="new@example.com")  # from the copy
        item = await target.create_item(
            ItemDraft(link=Link(key="i:NEW-1"), name="New", sku="NEW-1", rate=Decimal(5))
        )
        await target.prepare_lookups()  # the next unit: nothing to look up
        searched = await target.find_contact(email="new@example.com")
        return created, again, item, searched

    created, again, _, searched = run(zoho, units)
    assert again == created == searched
    kinds = [
        ("GET", "email" in ex.query) if ex.method == "GET" else (ex.method, False)
        for ex in _calls(zoho, "/contacts")
    ]
    # the page, the create, then (the copy forgotten) a search
    assert kinds == [("GET", False), ("POST", False), ("GET", True)]


def test_a_contact_created_elsewhere_before_the_units_read_is_found_not_duplicated(zoho):
    """Another worker of the pipeline created it and died before recording its binding: the
    unit that takes over reads the organisation at its start, so the contact is adopted."""

    async def earlier_holder(target):
        await target.prepare_lookups(contacts=1)
        return await target.create_contact(contact("lost@example.com"))

    async def this_worker(target):
        await target.prepare_lookups(contacts=1, scope="tenure-1")  # before the other's create
        first = await target.find_contact(email="lost@example.com")
        run_other = await anyio_call(earlier_holder)
        await target.prepare_lookups(contacts=1, scope="tenure-2")  # this worker's next lease
        return first, run_other, await target.find_contact(email="lost@example.com")

    def anyio_call(fn):
        # the other holder is another target (another process) on the same organisation
        import anyio

        return anyio.to_thread.run_sync(lambda: run(zoho, fn))

    first, created, found = run(zoho, this_worker)
    assert first is None
    assert found == created
    assert [c["email"] for c in _contacts(zoho)].count("lost@example.com") == 1


def test_a_lost_create_is_searched_for_and_the_copy_dropped(zoho):
    async def unit(target):
        await target.prepare_lookups(contacts=1)
        zoho.faults.lose_next_responses = 1  # the POST commits, its answer never arrives
        ref = await target.create_contact(contact("lost2@example.com"))
        again = await target.find_contact(email="lost2@example.com")
        return ref, again

    ref, again = run(zoho, unit)
    assert ref.adopted and again is not None and again.target_id == ref.target_id
    assert [c["email"] for c in _contacts(zoho)].count("lost2@example.com") == 1
    gets = [ex for ex in _calls(zoho, "/contacts") if ex.method == "GET"]
    # the unit's page, the search after the lost answer, then a search again: the copy is gone
    assert ["email" in ex.query for ex in gets] == [False, True, True]


def test_an_organisation_with_more_than_a_page_is_searched_one_by_one(zoho):
    org = zoho.state.organizations[MAIN_ORG]
    seeded = next(iter(org.contacts.values()))
    for n in range(200):
        org.contacts[f"bulk-{n}"] = {**seeded, "contact_id": f"bulk-{n}",
                                     "email": f"bulk{n}@example.com"}  # fmt: skip

    async def unit(target):
        await target.prepare_lookups(contacts=2)
        found = await target.find_contact(email="bulk150@example.com")
        await target.prepare_lookups(contacts=2)  # not read again while it is known too large
        return found, await target.find_contact(email="bulk199@example.com")

    a, b = run(zoho, unit)
    assert a is not None and a.target_id == "bulk-150"
    assert b is not None and b.target_id == "bulk-199"
    gets = [ex for ex in _calls(zoho, "/contacts") if ex.method == "GET"]
    assert ["email" in ex.query for ex in gets] == [False, True, True]


def test_units_of_one_lease_tenure_share_one_read(zoho):
    async def units(target):
        await target.prepare_lookups(contacts=2, items=1, scope="tenure-1")
        ada = await target.find_contact(email="ada@example.com")
        await target.prepare_lookups(contacts=1, scope="tenure-1")  # the next unit
        grace = await target.find_contact(email="grace@example.com")
        await target.prepare_lookups(contacts=1, scope="tenure-2")  # the lease taken again
        return ada, grace, await target.find_contact(email="ada@example.com")

    ada, grace, again = run(zoho, units)
    assert ada is not None and grace is not None and again == ada
    pages = [ex for ex in _calls(zoho, "/contacts") if ex.method == "GET"]
    assert [ex.query.get("email") for ex in pages] == [None, None]  # tenure 1, tenure 2
    assert len(_calls(zoho, "/items")) == 1
