"""The write half of a catalog connector: field tables, chunks and per-write outcomes.

``CatalogTarget.write_variants`` promises one ``WriteResult`` per write, whatever happened to
the request that carried it -- the engine records each write's outcome on its own and plans
a failed one again next run (docs/catalog.md, "Guarantees").  Every platform batches
differently (WooCommerce 100 objects per ``/batch``, Shopify 25 aliased mutations or 250
quantities, API2Cart and Zoho Books one call per record), but the bookkeeping around the
batches was the same in each connector, and is here once:

- ``FieldTable``: which platform field each catalog field is written to, and how the
  canonical string becomes the platform's value -- so a connector declares its write
  bodies instead of building them field by field.
- ``per_product``: the product-level fields of several writes (a product's name,
  description, status -- its variants share them) merged into one body per product, with
  the writes that body carries, so one request's outcome becomes each of theirs.
- ``Outcomes``: the error of each write, by its key; ``sent`` cuts items into chunks and
  sends each, so a request that fails fails exactly the writes it carried and the next
  chunk is still sent.
- ``one_by_one``: the same for a platform with no batch update (one call per record).
- ``exact_json``: a write body as JSON whose ``Decimal`` prices are their exact text, for a
  client that takes bytes (a float never gets near a price).
- ``refusal``: a platform's per-object refusal (a batch row's ``error``, GraphQL
  ``userErrors``) as the ``ValidationFailed`` the engine parks, with the platform's code and
  words.
"""

from __future__ import annotations

import json
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from ..contracts.catalog import CatalogField, CatalogWrite, WriteResult
from ..errors import SyncError, ValidationFailed

T = TypeVar("T")
A = TypeVar("A")


@dataclass(frozen=True)
class Column:
    """One catalog field written to one platform field.

    ``value`` turns the write into the platform's value (default: the canonical string as
    it is); a value of None leaves the platform field out -- the way ``CatalogWrite.price``
    is None for a price that does not parse, so nothing wrong is ever sent."""

    field: CatalogField
    name: str
    value: Callable[[CatalogWrite], Any] | None = None


class FieldTable:
    """A platform's write body for one call, declared as columns.

    The body lists its fields in the columns' order, or -- ``in_write_order`` -- in the
    order the write gives its fields (the pipeline's ownership table), the way a platform's
    body built from the write reads.  Two columns may read one field (WooCommerce's stock
    is ``manage_stock`` and ``stock_quantity``)."""

    def __init__(self, *columns: Column, in_write_order: bool = False) -> None:
        self.columns = columns
        self.fields = frozenset(c.field for c in columns)
        self.in_write_order = in_write_order

    def body(self, write: CatalogWrite) -> dict[str, Any]:
        """The platform fields this write sets (empty: the write touches none of them)."""
        columns = self.columns
        if self.in_write_order:
            columns = tuple(c for f in write.values for c in self.columns if c.field == f)
        out: dict[str, Any] = {}
        for column in columns:
            if column.field not in write.values:
                continue
            value = column.value(write) if column.value else write.values[column.field]
            if value is not None:
                out[column.name] = value
        return out


@dataclass(frozen=True)
class ProductWrite:
    """One product's merged body and the writes it carries (in the order given)."""

    product_id: str
    body: dict[str, Any]
    writes: list[CatalogWrite]


def per_product(
    writes: Iterable[CatalogWrite],
    table: FieldTable,
    *,
    head: Callable[[CatalogWrite], dict[str, Any]] | None = None,
    skip: Callable[[CatalogWrite], object] | None = None,
) -> list[ProductWrite]:
    """``table``'s body of each write, merged per product (a later write's value wins).

    ``head`` starts a product's body (its id, as the platform wants it); a write that sets
    none of the table's fields, or that ``skip`` says has failed already, is left out."""
    merged: dict[str, ProductWrite] = {}
    for w in writes:
        body = table.body(w)
        if not body or (skip is not None and skip(w)):
            continue
        start = head(w) if head is not None else {}
        group = merged.setdefault(w.product_id, ProductWrite(w.product_id, start, []))
        group.body.update(body)
        group.writes.append(w)
    return list(merged.values())


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in runs of at most ``size`` (a platform's per-request limit)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class Outcomes:
    """What became of each write of one ``write_variants`` call.

    A write with no error recorded succeeded: the platform holds its values now."""

    def __init__(self, writes: Sequence[CatalogWrite]) -> None:
        self.writes = writes
        self.errors: dict[str, SyncError] = {}

    def fail(self, writes: Iterable[CatalogWrite], error: SyncError) -> None:
        """Every one of ``writes`` failed with ``error`` (one request carried them all)."""
        self.errors.update({w.key: error for w in writes})

    def failed(self, write: CatalogWrite) -> SyncError | None:
        return self.errors.get(write.key)

    def results(self) -> list[WriteResult]:
        """One result per write, in the order the engine gave them."""
        return [WriteResult(w.key, self.errors.get(w.key)) for w in self.writes]

    async def sent(
        self,
        items: Sequence[T],
        size: int,
        send: Callable[[list[T]], Awaitable[A]],
        writes_of: Callable[[T], Iterable[CatalogWrite]],
    ) -> AsyncIterator[tuple[list[T], A]]:
        """Send ``items`` in chunks of ``size``; yield each chunk with the platform's answer.

        A chunk whose request fails (after the client's retries) fails the writes it
        carried (``writes_of`` each item) and is not yielded; the caller reads each yielded
        answer for per-object refusals."""
        for chunk in chunks(items, size):
            try:
                answer = await send(chunk)
            except SyncError as exc:
                self.fail((w for item in chunk for w in writes_of(item)), exc)
                continue
            yield chunk, answer


async def one_by_one(
    writes: Sequence[CatalogWrite], write: Callable[[CatalogWrite], Awaitable[None]]
) -> list[WriteResult]:
    """Each write in its own call(s), for a platform with no batch update: one write's
    failure is its own, and the next is still made."""
    results = []
    for w in writes:
        try:
            await write(w)
            results.append(WriteResult(w.key))
        except SyncError as exc:
            results.append(WriteResult(w.key, exc))
    return results


def refusal(where: str, problems: Sequence[Mapping[str, Any]], *, platform: str) -> SyncError:
    """The platform refused an object: its first problem's words and code, every problem's
    words in ``platform_message`` (one problem: its message as the platform gave it)."""
    first = problems[0]
    said = (
        first.get("message")
        if len(problems) == 1
        else "; ".join(str(p.get("message")) for p in problems)
    )
    return ValidationFailed(
        f"{where}: {first.get('message')}",
        platform=platform,
        code=first.get("code"),
        platform_message=said,
    )


def exact_json(value: Any) -> str:
    """Compact JSON with ``Decimal`` written as its exact text; a float is refused (an
    amount that went through float has lost its cents already)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite amount")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError(f"refusing to encode float {value!r}: use Decimal for amounts")
    if isinstance(value, dict):
        pairs = (f"{json.dumps(str(k))}:{exact_json(v)}" for k, v in value.items())
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(exact_json(v) for v in value) + "]"
    return json.dumps(value)
