"""Pairing unbound variants across the two sides by SKU, then barcode (pure).

A variant is bound when exactly one variant on each side carries its key and neither is
bound yet.  Anything else is parked ``needs_mapping`` with a reason naming every record
involved -- two Zoho items with one SKU are never guessed between; ``ledgerbridge catalog
link`` binds by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .state import VariantRow


@dataclass
class Matching:
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (a id, b id)
    parked: dict[tuple[str, str], str] = field(default_factory=dict)  # (side, id) -> reason


def _name(row: VariantRow, sides: dict[str, str]) -> str:
    return f"{sides[row.side]} {row.external_id}"


def match(
    unbound: list[VariantRow],
    candidates: list[VariantRow],
    bound: set[tuple[str, str]],
    sides: dict[str, str],
    pipeline_id: str,
) -> Matching:
    """``sides`` maps "a"/"b" to connection names (``VariantRow.side`` holds the name);
    ``candidates`` are every stored variant sharing a SKU or barcode with ``unbound``;
    ``bound`` the (side, id) pairs already bound."""
    a, b = sides["a"], sides["b"]
    names = {a: "a", b: "b"}
    result = Matching()
    taken: set[tuple[str, str]] = set(bound)
    for row in unbound:
        if (row.side, row.external_id) in taken:
            continue
        reason = None
        for key in ("sku", "barcode"):
            value = getattr(row, key)
            if not value:
                continue
            same = [c for c in candidates if getattr(c, key) == value]
            mine = [c for c in same if c.side == row.side]
            theirs = [c for c in same if c.side != row.side]
            if len(mine) == 1 and len(theirs) == 1:
                other = theirs[0]
                if (other.side, other.external_id) in taken:
                    reason = (
                        f"{key} {value}: {_name(other, {a: a, b: b})} is already bound to "
                        "another variant"
                    )
                    continue
                pair = (row, other) if names[row.side] == "a" else (other, row)
                result.pairs.append((pair[0].external_id, pair[1].external_id))
                taken.update({(row.side, row.external_id), (other.side, other.external_id)})
                reason = None
                break
            if len(mine) > 1 or len(theirs) > 1:
                listed = ", ".join(f"{c.side} {c.external_id}" for c in same)
                reason = f"{key} {value} is ambiguous: {len(same)} variants carry it ({listed})"
                break
            if reason is None:
                other_side = b if row.side == a else a
                reason = f"no variant on {other_side} with {key} {value}"
        else:
            if reason is None:
                reason = "no SKU or barcode to match on"
        if reason is not None:
            result.parked[(row.side, row.external_id)] = (
                f"{reason}; bind by hand: ledgerbridge catalog link {pipeline_id} --{a} ID --{b} ID"
            )
    return result
