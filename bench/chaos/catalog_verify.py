"""The catalog scenario's verdict, from the platforms' own records and their write journals.

Inputs, all from the emulators and the harness (never the sync's store): each side's
catalog before the first run, the merchant's edits (time, side, record, field, value),
the write journals (``catalog_platforms.Journal``), the worker runs (start, end, killed),
each side's catalog at the end, and the product's own lists of parked records and open
conflicts.  Variants are paired by SKU where the SKU is on exactly one variant of each
side (the others are the shop's own data problems: ``needs_mapping`` is right for them).

- **lost update**: at the end, a paired variant whose owned field differs between the
  sides, or from the owner's last edited value;
- **stale write**: a write that set a value other than the one the owner held when the
  write reached the platform (the harness edits only between runs, so "held then" is
  exact) -- an old value written over a newer one, or a value nobody owned;
- **wrong-side write**: a field written to its owner (the harness never edits a field on
  the side that does not own it, so no revert is ever due);
- **repeated update**: the same value written again to the same variant and field after
  a write of it was applied *and answered* in a run that was not killed and met no fault
  on that variant -- the product knew it had landed and wrote it anyway.  A value sent
  again after its answer was lost, after the worker died before recording it, or after a
  fault failed the variant's write as a whole (the engine re-plans a failed write whole)
  is a **re-send**: absolute values, so harmless, counted but not a failure;
- **clean re-run writes**: write requests of one more run after the settling: must be 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
BOOKS_FIELDS = ("price", "stock")
SHOP_FIELDS = ("name", "status")


@dataclass
class Edit:
    t: float
    side: str  # "books" | "shop"
    record: str  # a Zoho item id, or a shop product id (names are per product)
    field: str
    value: str


@dataclass
class RunSpan:
    start: float
    end: float
    killed: bool


@dataclass
class CatalogVerdict:
    paired: int = 0
    writes: int = 0  # applied field writes, both sides
    lost: int = 0
    stale: int = 0
    wrong_side: int = 0
    repeated: int = 0
    resent: Counter[str] = field(default_factory=Counter)  # why -> n
    conflicts: int = 0
    parked: Counter[str] = field(default_factory=Counter)
    parked_by_harness: int = 0
    details: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.details) < 40:
            self.details.append(what)

    @property
    def clean(self) -> bool:
        return (
            not (self.lost or self.stale or self.wrong_side or self.repeated or self.conflicts)
            and not self.parked_by_harness
        )


def pairs(books: list[Row], shop: list[Row]) -> dict[str, str]:
    """Zoho item id -> shop variant id, by a SKU on exactly one record of each side."""
    a = Counter(r["sku"] for r in books if r["sku"])
    b = Counter(r["sku"] for r in shop if r["sku"])
    shop_by = {r["sku"]: r["id"] for r in shop if r["sku"] and b[r["sku"]] == 1}
    return {
        r["id"]: shop_by[r["sku"]] for r in books if a.get(r["sku"]) == 1 and r["sku"] in shop_by
    }


class Timeline:
    """What the owner of each (record, field) held at any moment: its first value, then edits."""

    def __init__(self, first: dict[tuple[str, str], str | None], edits: list[Edit]) -> None:
        self.first = first
        self.edits: dict[tuple[str, str], list[Edit]] = defaultdict(list)
        for e in sorted(edits, key=lambda e: e.t):
            self.edits[(e.record, e.field)].append(e)

    def at(self, record: str, name: str, t: float) -> str | None:
        value = self.first.get((record, name))
        for e in self.edits.get((record, name), []):
            if e.t < t:
                value = e.value
        return value

    def last(self, record: str, name: str) -> str | None:
        return self.at(record, name, float("inf"))


def verify(
    *,
    books_before: list[Row],
    shop_before: list[Row],
    books_after: list[Row],
    shop_after: list[Row],
    edits: list[Edit],
    books_journal: list[Row],
    shop_journal: list[Row],
    runs: list[RunSpan],
    parks: list[Row],
    conflicts: list[Row],
) -> CatalogVerdict:
    v = CatalogVerdict()
    paired = pairs(books_before, shop_before)
    v.paired = len(paired)
    shop_of = paired
    item_of = {s: b for b, s in paired.items()}
    product = {r["id"]: r["product_id"] for r in shop_before}
    first: dict[tuple[str, str], str | None] = {}
    for r in books_before:
        for f in BOOKS_FIELDS:
            first[(r["id"], f)] = r[f]
    for r in shop_before:  # names are a product's; status a variant's (or its product's)
        first[(r["product_id"], "name")] = r["name"]
        first[(r["id"], "status")] = r["status"]
    owner = Timeline(first, edits)

    def shop_owned(variant: str, name: str, t: float) -> str | None:
        record = product.get(variant, variant) if name == "name" else variant
        return owner.at(record, name, t)

    _final(v, paired, books_after, shop_after, owner, product)
    # every write against the owner's value at that moment
    for side, journal in (("shop", shop_journal), ("books", books_journal)):
        for entry in journal:
            if not entry["applied"]:
                continue
            for key, name, value in entry["writes"]:
                v.writes += 1
                if side == "shop":
                    if name not in BOOKS_FIELDS:
                        v.wrong_side += 1
                        v.note(f"shop {key}: {name} {value!r} written to its owner")
                        continue
                    item = item_of.get(key)
                    want = owner.at(item, name, entry["t"]) if item else None
                else:
                    if name not in SHOP_FIELDS:
                        v.wrong_side += 1
                        v.note(f"books {key}: {name} {value!r} written to its owner")
                        continue
                    variant = shop_of.get(key)
                    want = shop_owned(variant, name, entry["t"]) if variant else None
                if value != want:
                    v.stale += 1
                    v.note(f"{side} {key}: {name} written {value!r}, the owner held {want!r}")
    for side, journal in (("shop", shop_journal), ("books", books_journal)):
        _repeats(v, side, journal, runs)
    v.conflicts = len(conflicts)
    for c in conflicts:
        v.note(f"conflict {c.get('id')}: {c.get('fields')}")
    unpaired = {f"books:{r['id']}" for r in books_before if r["id"] not in paired}
    unpaired |= {f"shop:{r['id']}" for r in shop_before if r["id"] not in item_of}
    for row in parks:
        v.parked[f"{row['state']}: {str(row.get('why') or '')[:50]}"] += 1
        record = str(row.get("record", ""))
        if row["state"] != "needs_mapping" or not any(record.endswith(u) for u in unpaired):
            v.parked_by_harness += 1
            v.note(f"parked: {record} {row['state']}: {row.get('why')}")
    return v


def _final(
    v: CatalogVerdict,
    paired: dict[str, str],
    books_after: list[Row],
    shop_after: list[Row],
    owner: Timeline,
    product: dict[str, str],
) -> None:
    books = {r["id"]: r for r in books_after}
    shop = {r["id"]: r for r in shop_after}
    for item, variant in sorted(paired.items()):
        a, b = books.get(item), shop.get(variant)
        if a is None or b is None:
            v.lost += 1
            v.note(f"pair {item}/{variant} gone from a side")
            continue
        for name in BOOKS_FIELDS:
            want = owner.last(item, name)
            if b[name] != a[name] or a[name] != want:
                v.lost += 1
                v.note(f"{a['sku']} {name}: books {a[name]!r}, shop {b[name]!r}, edited {want!r}")
        for name in SHOP_FIELDS:
            want = owner.last(product[variant] if name == "name" else variant, name)
            if a[name] != b[name] or b[name] != want:
                v.lost += 1
                v.note(f"{a['sku']} {name}: shop {b[name]!r}, books {a[name]!r}, edited {want!r}")


def _run_of(t: float, runs: list[RunSpan]) -> RunSpan | None:
    return next((r for r in runs if r.start <= t <= r.end), None)


def _repeats(v: CatalogVerdict, side: str, journal: list[Row], runs: list[RunSpan]) -> None:
    """Per variant and field, each applied write against the one before it."""
    troubled: set[tuple[int, str]] = set()  # (run index, key): a request of it failed
    for entry in journal:
        if not entry["applied"] or not entry["delivered"]:
            run = _run_of(entry["t"], runs)
            for key, _, _ in entry["writes"]:
                troubled.add((runs.index(run) if run else -1, key))
    last: dict[tuple[str, str], tuple[Row, str | None]] = {}
    for entry in sorted(journal, key=lambda e: e["t"]):
        if not entry["applied"]:
            continue
        for key, name, value in entry["writes"]:
            before = last.get((key, name))
            last[(key, name)] = (entry, value)
            if before is None or before[1] != value:
                continue
            prev = before[0]
            run = _run_of(prev["t"], runs)
            index = runs.index(run) if run else -1
            if not prev["delivered"]:
                v.resent["answer lost"] += 1
            elif run is None or run.killed:
                v.resent["worker killed"] += 1
            elif (index, key) in troubled:
                v.resent["write failed"] += 1
            else:
                v.repeated += 1
                v.note(f"{side} {key}: {name} {value!r} written again after it landed")
