"""The catalog verdict catches what it claims to: lost, stale, wrong-side and repeated
updates, each from the platforms' records and write journals (``catalog_verify``)."""

from __future__ import annotations

from typing import Any

from bench.chaos.catalog_verify import CatalogVerdict, Edit, RunSpan, verify

BOOKS = [{"id": "i1", "product_id": "i1", "sku": "S1", "price": "10", "stock": "5",
          "name": "S1", "status": "active"}]  # fmt: skip
SHOP = [{"id": "v1", "product_id": "p1", "sku": "S1", "price": "9", "stock": "1",
         "name": "Shirt", "status": "active"}]  # fmt: skip
EDIT = Edit(100.0, "books", "i1", "price", "12")  # the merchant's edit, between runs
RUNS = [RunSpan(10.0, 20.0, False), RunSpan(110.0, 120.0, False), RunSpan(130.0, 140.0, False)]


def _entry(t: float, writes: list[Any], *, delivered: bool = True) -> dict[str, Any]:
    return {"t": t, "writes": writes, "delivered": delivered, "applied": True, "status": 200}


def _after(**shop: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    books = [{**BOOKS[0], "price": "12", "name": "Shirt"}]
    return books, [{**SHOP[0], "price": "12", "stock": "5", **shop}]


def _verify(shop_journal: list[Any], **after: str) -> CatalogVerdict:
    books_after, shop_after = _after(**after)
    return verify(
        books_before=BOOKS, shop_before=SHOP, books_after=books_after, shop_after=shop_after,
        edits=[EDIT], books_journal=[_entry(12.0, [("i1", "name", "Shirt")])],
        shop_journal=shop_journal, runs=RUNS, parks=[], conflicts=[],
    )  # fmt: skip


FIRST = _entry(11.0, [("v1", "price", "10"), ("v1", "stock", "5")])
SECOND = _entry(111.0, [("v1", "price", "12")])


def test_an_exact_sync_is_clean() -> None:
    v = _verify([FIRST, SECOND])
    assert v.clean and v.writes == 4 and v.paired == 1


def test_a_value_that_never_reached_the_shop_is_a_lost_update() -> None:
    v = _verify([FIRST], price="10")
    assert v.lost == 1 and not v.clean


def test_an_old_value_written_after_the_edit_is_stale() -> None:
    v = _verify([FIRST, SECOND, _entry(131.0, [("v1", "price", "10")])])
    assert v.stale == 1


def test_a_field_written_to_its_owner_is_a_wrong_side_write() -> None:
    v = _verify([FIRST, SECOND, _entry(132.0, [("v1", "name", "Shirt")])])
    assert v.wrong_side == 1


def test_a_value_written_again_after_it_landed_and_was_answered_is_repeated() -> None:
    v = _verify([FIRST, SECOND, _entry(133.0, [("v1", "price", "12")])])
    assert v.repeated == 1 and not v.clean


def test_a_value_sent_again_after_its_answer_was_lost_is_a_resend() -> None:
    lost = _entry(111.0, [("v1", "price", "12")], delivered=False)
    v = _verify([FIRST, lost, _entry(133.0, [("v1", "price", "12")])])
    assert v.repeated == 0 and v.resent["answer lost"] == 1 and v.clean


def test_a_value_sent_again_after_its_run_was_killed_is_a_resend() -> None:
    runs = [RUNS[0], RunSpan(110.0, 120.0, True), RUNS[2]]
    books_after, shop_after = _after()
    v = verify(
        books_before=BOOKS, shop_before=SHOP, books_after=books_after, shop_after=shop_after,
        edits=[EDIT], books_journal=[_entry(12.0, [("i1", "name", "Shirt")])],
        shop_journal=[FIRST, SECOND, _entry(133.0, [("v1", "price", "12")])], runs=runs,
        parks=[], conflicts=[{"id": 1, "fields": ["price"]}],
    )  # fmt: skip
    assert v.repeated == 0 and v.resent["worker killed"] == 1
    assert v.conflicts == 1 and not v.clean
