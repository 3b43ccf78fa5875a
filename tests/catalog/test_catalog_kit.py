"""The catalog kit's generic parts, on their own (the connectors' use of them is covered by
the pipeline tests beside this file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import Mock

import anyio
import pytest

from ledgerbridge.canonical.money import parse_amount
from ledgerbridge.catalog_kit import (
    Column,
    FieldTable,
    NewestSeen,
    Outcomes,
    PageOfProducts,
    StatusWords,
    exact_json,
    money,
    one_by_one,
    per_product,
    refusal,
    stock,
)
from ledgerbridge.contracts.catalog import CatalogField, CatalogSpec, CatalogWrite
from ledgerbridge.errors import RateLimited, SyncError, TransientError, ValidationFailed

TIME = "%Y-%m-%dT%H:%M:%S%z"


def _write(key: str, **values: str) -> CatalogWrite:
    return CatalogWrite(key, "p1", key, {CatalogField(k): v for k, v in values.items()})


def test_a_settled_checkpoint_is_the_newest_read_plus_the_step() -> None:
    mark = NewestSeen("2024-01-01T00:00:00+0000", TIME, step=timedelta(seconds=1))
    assert mark.after(True) is None  # no checkpoint while pages follow
    mark.see(datetime(2024, 3, 1, 10, 0, 5, tzinfo=UTC))
    mark.see(datetime(2024, 3, 1, 9, 0, 0, tzinfo=UTC))  # older: does not move it back
    mark.see(None)
    assert mark.after(False) == "2024-03-01T10:00:06+0000"


def test_a_checkpoint_never_passes_the_walk_start_less_the_skew() -> None:
    mark = NewestSeen(None, TIME)
    mark.see(datetime.now(UTC))  # a record changed while the walk ran
    settled = datetime.strptime(mark.settled() or "", TIME)
    assert settled <= datetime.now(UTC) - timedelta(seconds=59)


def test_a_walk_that_saw_no_time_keeps_the_old_checkpoint() -> None:
    assert NewestSeen("2024-01-01T00:00:00", "%Y-%m-%dT%H:%M:%S").settled() == (
        "2024-01-01T00:00:00"
    )


def test_a_stamp_is_noted_as_the_platform_writes_it() -> None:
    mark = NewestSeen(None, TIME, step=timedelta(seconds=1))
    mark.note("2024-03-01T10:00:05+0000")
    mark.note(None)  # a record without a stamp moves nothing
    mark.note("")
    assert mark.settled() == "2024-03-01T10:00:06+0000"
    iso = NewestSeen(None, "%Y-%m-%d", parse=datetime.fromisoformat)
    iso.note("2024-03-01T10:00:05.250+00:00")  # read by ``parse``, written by ``fmt``
    assert iso.settled() == "2024-03-01"
    with pytest.raises(ValueError):
        mark.note("yesterday")  # a stamp that does not parse is not silently skipped


def test_a_catalog_spec_writes_what_it_has_write_paths_for() -> None:
    spec = CatalogSpec(factory=Mock(), write_paths={CatalogField.PRICE: "PUT /items/{id}"})
    assert spec.reads == frozenset(CatalogField) and spec.writes == {CatalogField.PRICE}
    narrow = CatalogSpec(Mock(), frozenset({CatalogField.NAME}), frozenset({CatalogField.NAME}))
    assert narrow.reads == narrow.writes == {CatalogField.NAME}


def test_a_record_that_cannot_be_mapped_is_parked_with_its_id_and_the_rest_kept() -> None:
    page = PageOfProducts("shop product", "shop")
    with page.mapping(7):
        {}["title"]  # a mapper meeting a missing key
    with page.mapping(8):
        Decimal("not a price")
    done = page.done("mark")
    assert done.checkpoint == "mark" and done.products == []
    assert set(done.unreadable) == {"7", "8"}
    assert isinstance(done.unreadable["7"], ValidationFailed)
    assert done.unreadable["7"].message == "shop product 7: KeyError: 'title'"


def test_a_platform_error_while_mapping_is_not_swallowed() -> None:
    page = PageOfProducts("shop product", "shop")
    with pytest.raises(RateLimited), page.mapping(1):
        raise RateLimited("slow down", platform="shop")
    assert page.unreadable == {}


def test_an_edge_readers_refusal_is_parked_naming_the_field_and_one_naming_none_is_not() -> None:
    page = PageOfProducts("shop product", "shop")
    with page.mapping(7):
        parse_amount("abc", "variant 7: price", platform="shop")
    assert (
        page.unreadable["7"].message
        == "shop product 7: variant 7: price is 'abc', not a decimal number"
    )
    assert page.unreadable["7"].details == {"field": "variant 7: price"}
    with pytest.raises(ValidationFailed), page.mapping(8):
        raise ValidationFailed("400 from the variations call", platform="shop")
    assert set(page.unreadable) == {"7"}


def test_a_field_table_writes_only_the_fields_of_the_write_and_skips_none() -> None:
    table = FieldTable(
        Column(CatalogField.PRICE, "rate", lambda w: w.price),
        Column(CatalogField.STOCK, "tracked", lambda w: True),
        Column(CatalogField.STOCK, "qty", lambda w: w.stock),
        Column(CatalogField.NAME, "title"),
    )
    assert table.body(_write("a", price="12.50", name="Mug")) == {
        "rate": Decimal("12.50"),
        "title": "Mug",
    }
    assert table.body(_write("b", stock="3")) == {"tracked": True, "qty": 3}
    assert table.body(_write("c", price="twelve")) == {}  # never sends a price it cannot read
    assert table.body(_write("d", description="x")) == {}


def test_a_failed_chunk_fails_exactly_its_writes_and_the_next_chunk_is_sent() -> None:
    writes = [_write(f"w{i}", price="1") for i in range(5)]
    outcomes = Outcomes(writes)
    sent: list[list[str]] = []
    down = TransientError("gateway timeout", platform="shop")

    async def send(chunk: list[CatalogWrite]) -> Any:
        sent.append([w.key for w in chunk])
        if len(sent) == 1:
            raise down
        return {"ok": True}

    async def walk() -> list[Any]:
        return [answer async for _, answer in outcomes.sent(writes, 2, send, lambda w: [w])]

    answers = anyio.run(walk)
    assert sent == [["w0", "w1"], ["w2", "w3"], ["w4"]]
    assert answers == [{"ok": True}, {"ok": True}]
    results = {r.key: r.error for r in outcomes.results()}
    assert results == {"w0": down, "w1": down, "w2": None, "w3": None, "w4": None}
    assert [r.key for r in outcomes.results()] == [w.key for w in writes]


def test_one_by_one_keeps_going_past_a_refused_write() -> None:
    writes = [_write("a", price="1"), _write("b", price="2")]

    async def write(w: CatalogWrite) -> None:
        if w.key == "a":
            raise ValidationFailed("refused", platform="shop")

    results = anyio.run(one_by_one, writes, write)
    assert [(r.key, type(r.error).__name__ if r.error else None) for r in results] == [
        ("a", "ValidationFailed"),
        ("b", None),
    ]


def test_a_refusal_names_the_call_and_keeps_every_message() -> None:
    one = refusal("shop /batch", [{"code": "bad_sku", "message": "SKU taken"}], platform="shop")
    assert (one.message, one.code, one.platform_message) == (
        "shop /batch: SKU taken",
        "bad_sku",
        "SKU taken",
    )
    many = refusal("shop m", [{"message": "a", "code": "X"}, {"message": "b"}], platform="shop")
    assert (many.message, many.code, many.platform_message) == ("shop m: a", "X", "a; b")
    assert isinstance(many, SyncError) and not many.retryable


def test_shaping_keeps_prices_exact_and_untracked_stock_unknown() -> None:
    assert money(19.99, "USD").amount == Decimal("19.99")  # through str, not the float's bits
    assert stock("v1", None) == ()
    (level,) = stock("v1", 4, "loc")
    assert (level.variant, level.location, level.available) == ("v1", "loc", 4)
    words = StatusWords(active="publish", inactive="draft")
    assert (words.read("publish"), words.read("pending"), words.write("inactive")) == (
        "active",
        "inactive",
        "draft",
    )


def test_exact_json_writes_decimals_as_their_text_and_refuses_floats() -> None:
    body = {"id": "7", "price": Decimal("12.50"), "tags": [True, None], "qty": 3}
    assert exact_json(body) == '{"id":"7","price":12.50,"tags":[true,null],"qty":3}'
    with pytest.raises(TypeError):
        exact_json({"price": 12.5})
    with pytest.raises(ValueError):
        exact_json(Decimal("NaN"))


def test_product_fields_merge_into_one_body_per_product_carrying_every_write() -> None:
    table = FieldTable(
        Column(CatalogField.NAME, "title"),
        Column(CatalogField.DESCRIPTION, "body"),
        in_write_order=True,
    )
    a = CatalogWrite("a", "p1", "v1", {CatalogField.DESCRIPTION: "old", CatalogField.NAME: "Mug"})
    b = CatalogWrite("b", "p1", "v2", {CatalogField.DESCRIPTION: "new"})
    c = CatalogWrite("c", "p2", "v3", {CatalogField.PRICE: "1"})  # no product field
    d = CatalogWrite("d", "p3", "v4", {CatalogField.NAME: "Cup"})
    groups = per_product([a, b, c, d], table, head=lambda w: {"id": w.product_id})
    assert [(g.product_id, g.body, [w.key for w in g.writes]) for g in groups] == [
        ("p1", {"id": "p1", "body": "new", "title": "Mug"}, ["a", "b"]),
        ("p3", {"id": "p3", "title": "Cup"}, ["d"]),
    ]
    assert list(table.body(a)) == ["body", "title"]  # the write's own order
    skipped = per_product([a, d], table, skip=lambda w: w.key == "d")
    assert [g.product_id for g in skipped] == ["p1"]
