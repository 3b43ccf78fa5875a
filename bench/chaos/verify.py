"""The verdict, from the emulators' own state: the chaos book against the reference and the shop.

Both books are exported by the Zoho Books emulator (``/_sandbox/export``), the
shop's order totals by the shop's emulator; the sync's store is never read for
money.  The product's own list of parked records (``ledgerbridge failures --json``)
says which orders were *meant* to be held, and why.

Documents are matched across the two organisations by what identifies them to a
merchant -- the source order id custom field, else the reference number -- and
payments and credit notes by reference number.  For each key:

- **duplicates**: more live (not void) documents in the chaos book than in the reference;
- **missing**: fewer, and the order is not parked in the chaos book;
- **orphans**: voided or unmatched documents the reference does not have;
- **money**: a total, balance, amount, refund or application that differs from the
  reference, a per-order document total that differs from the shop's total to the cent
  (where the reference's equals it), or a refunded credit note left with an open balance
  (one the reference leaves open alike -- a daily summary's, holding store credit -- is not);
- **state**: a status that differs (a draft where a clean run has it sent);
- **parked by the harness**: held in the chaos book, posted in the reference;
- contacts and items: the same customer or product twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ORDER_FIELD = "cf_source_order_id"


@dataclass
class Verdict:
    orders: int = 0
    duplicates: int = 0
    missing: int = 0
    orphans: int = 0
    money: int = 0
    money_total: Decimal = Decimal("0.00")
    state: int = 0
    parked: Counter[str] = field(default_factory=Counter)  # reason -> n (chaos book)
    parked_by_harness: int = 0
    details: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.details) < 40:
            self.details.append(what)

    @property
    def clean(self) -> bool:
        return (
            not (self.duplicates or self.missing or self.orphans or self.money or self.state)
            and not self.parked_by_harness
        )


def _d(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def _order_id(doc: dict[str, Any]) -> str:
    value = str((doc.get("custom_field_hash") or {}).get(ORDER_FIELD) or "")
    return value.rsplit("/", 1)[-1]


def _doc_key(kind: str, doc: dict[str, Any]) -> str:
    # A sales receipt carries no custom fields and no reference_number (sales-receipt.yml):
    # its key is its receipt_number, the order's reference.
    reference = doc.get("reference_number") or doc.get("receipt_number", "")
    return f"{kind}:{_order_id(doc) or reference}"


def _documents(books: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for kind in ("invoices", "salesreceipts"):
        for doc in books[kind]:
            grouped[_doc_key(kind, doc)].append(doc)
    return grouped


def _numbers(books: dict[str, Any]) -> dict[str, str]:
    """Zoho's own ids differ between the two books; a document's key does not."""
    names = {}
    for kind in ("invoices", "salesreceipts"):
        for doc in books[kind]:
            names[doc.get("invoice_id") or doc.get("sales_receipt_id") or ""] = _doc_key(kind, doc)
    return names


def _payments(books: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    names = _numbers(books)
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for p in books["payments"]:
        applied = sorted(
            (names.get(a["invoice_id"], "?"), _d(a["amount_applied"]))
            for a in p.get("invoices", [])
        )
        rows[f"{_order_id(p)}:{p.get('reference_number', '')}"].append(
            (_d(p["amount"]), _d(p["unused_amount"]), tuple(applied))
        )
    return rows


def _notes(books: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    names = _numbers(books)
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for n in books["creditnotes"]:
        if n.get("status") == "void":
            continue
        refunds = tuple(sorted(_d(a) for a in n.get("refunds", [])))
        applied = tuple(sorted((names.get(k, "?"), _d(v)) for k, v in n.get("applied", {}).items()))
        key = _order_id(n) + ":" + str(n.get("reference_number", ""))
        rows[key].append((_d(n["total"]), _d(n["balance"]), refunds, applied, n.get("status")))
    return rows


def _park_key(row: dict[str, Any]) -> str:
    return f"{row['record']}"


def _reason(row: dict[str, Any]) -> str:
    """A short reason: the missing mapping key, else the start of the product's own words."""
    why = str(row.get("why") or "")
    if why.startswith("missing mapping: "):
        why = why.removeprefix("missing mapping: ").split(" ", 1)[0]
    return f"{row['state']}: {why[:40]}" if why else str(row["state"])


def verify(
    chaos: dict[str, Any],
    reference: dict[str, Any],
    shop: dict[str, dict[str, str]],
    chaos_parks: list[dict[str, Any]],
    reference_parks: list[dict[str, Any]],
) -> Verdict:
    v = Verdict(orders=len(shop))
    held = {_park_key(r) for r in chaos_parks if r["state"] != "retrying"}
    expected_held = {_park_key(r) for r in reference_parks}
    for row in chaos_parks:
        v.parked[_reason(row)] += 1
        if _park_key(row) not in expected_held:
            v.parked_by_harness += 1
            v.note(f"parked by the harness: {row['record']} {row['state']}: {row.get('why')}")
    _compare_documents(v, _documents(chaos), _documents(reference), shop, held)
    orders = {h.rsplit(" ", 1)[-1] for h in held}
    _compare_rows(v, "payment", _payments(chaos), _payments(reference), orders)
    _compare_rows(v, "credit note", _notes(chaos), _notes(reference), orders)
    clean_notes = _notes(reference)
    for note in chaos["creditnotes"]:
        if note.get("refunds") and note.get("status") != "void" and _d(note["balance"]) != 0:
            key = _order_id(note) + ":" + str(note.get("reference_number", ""))
            if any(row[1] == _d(note["balance"]) for row in clean_notes.get(key, [])):
                # a clean run leaves it open too: a daily summary's credit note holds
                # the day's credit kept without money going back (store credit)
                continue
            v.money += 1
            v.note(
                f"refunded credit note {note.get('creditnote_number')} open at {note['balance']}"
            )
    for kind, key in (("contacts", ("contact_name", "email")), ("items", ("sku", "name"))):
        mine = Counter(tuple(str(r.get(k, "")) for k in key) for r in chaos[kind])
        theirs = Counter(tuple(str(r.get(k, "")) for k in key) for r in reference[kind])
        for name, n in mine.items():
            if n > max(1, theirs.get(name, 0)):
                v.duplicates += n - max(1, theirs.get(name, 0))
                v.note(f"{kind[:-1]} {name} {n} times")
    return v


def _compare_documents(
    v: Verdict,
    chaos: dict[str, list[dict[str, Any]]],
    reference: dict[str, list[dict[str, Any]]],
    shop: dict[str, dict[str, str]],
    held: set[str],
) -> None:
    for key in sorted(set(chaos) | set(reference)):
        mine = [d for d in chaos.get(key, []) if d.get("status") != "void"]
        theirs = [d for d in reference.get(key, []) if d.get("status") != "void"]
        voids = len(chaos.get(key, [])) - len(mine)
        ref_voids = len(reference.get(key, [])) - len(theirs)
        order = key.split(":", 1)[1]
        if voids > ref_voids:
            v.orphans += voids - ref_voids
            v.note(f"{key}: {voids} void (reference {ref_voids})")
        if len(mine) > len(theirs):
            extra = len(mine) - len(theirs)
            if theirs:
                v.duplicates += extra
            else:
                v.orphans += extra
            v.note(f"{key}: {len(mine)} live (reference {len(theirs)})")
        elif len(mine) < len(theirs) and not any(h.endswith(f" {order}") for h in held):
            v.missing += len(theirs) - len(mine)
            v.note(f"{key}: {len(mine)} live (reference {len(theirs)})")
        for doc, ref in zip(mine, theirs, strict=False):
            for name in ("total", "balance"):
                if _d(doc.get(name)) != _d(ref.get(name)):
                    v.money += 1
                    v.money_total += abs(_d(doc.get(name)) - _d(ref.get(name)))
                    v.note(f"{key}: {name} {doc.get(name)} (reference {ref.get(name)})")
            if doc.get("status") != ref.get("status"):
                v.state += 1
                v.note(f"{key}: status {doc.get('status')} (reference {ref.get('status')})")
            source = shop.get(order)
            if source and _d(ref["total"]) == _d(source["total"]) != _d(doc["total"]):
                v.money += 1
                v.note(f"{key}: total {doc['total']} (shop {source['total']})")


def _compare_rows(
    v: Verdict,
    what: str,
    chaos: dict[str, list[tuple[Any, ...]]],
    reference: dict[str, list[tuple[Any, ...]]],
    held: set[str],
) -> None:
    """Payments or credit notes by key; those of a parked order are the park's, not missing."""
    for key in sorted(set(chaos) | set(reference)):
        mine, theirs = Counter(chaos.get(key, [])), Counter(reference.get(key, []))
        parked = any(part in held for part in key.split(":", 1))  # by order id, else number
        if parked and sum(mine.values()) < sum(theirs.values()):
            continue
        if mine == theirs:
            continue
        n_mine, n_theirs = sum(mine.values()), sum(theirs.values())
        if n_mine > n_theirs:
            v.duplicates += n_mine - n_theirs
        elif n_mine < n_theirs:
            v.missing += n_theirs - n_mine
        else:
            v.money += sum((mine - theirs).values())
        v.note(f"{what} {key}: {sorted(mine.elements())} (reference {sorted(theirs.elements())})")
