"""``mappings validate --against``: does every id the mapping names exist in the target?

A tax id copied from the wrong organisation, or an account that was archived,
would otherwise surface as a failed write in the middle of a sync.  The check
asks the target for its master data through ``Target.lookups(kind)`` (the
contract, not a platform API) and reports each missing id at its position.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..contracts import Target
from ..plan import LookupEntry, LookupKind
from .runtime import MappingRuntime, NamedReference


@dataclass(frozen=True)
class MissingReference:
    reference: NamedReference
    message: str

    def __str__(self) -> str:
        return f"{self.reference.location}: {self.message}"


def _matches(value: str, entry: LookupEntry) -> bool:
    if value in (entry.target_id, entry.name):
        return True
    code = entry.details.get("code") or entry.details.get("currency_code")
    return code is not None and str(code) == value


async def check_against(runtime: MappingRuntime, target: Target) -> list[MissingReference]:
    """Every reference of ``runtime`` that the target organisation does not have."""
    kinds = sorted({kind for ref in runtime.references for kind in ref.kinds})
    known: dict[LookupKind, list[LookupEntry]] = {}
    for kind in kinds:
        known[kind] = await target.lookups(kind)
    missing: list[MissingReference] = []
    for ref in runtime.references:
        entries = [e for kind in ref.kinds for e in known[kind]]
        if any(_matches(ref.value, e) for e in entries):
            continue
        what = " or ".join(k.value.replace("_", " ") for k in ref.kinds)
        labels = {f"{e.target_id} ({e.name})": e for e in entries}
        close = difflib.get_close_matches(ref.value, [e.target_id for e in entries], n=1)
        close += difflib.get_close_matches(ref.value, [e.name for e in entries], n=1)
        hint = ""
        if close:
            match = next(lbl for lbl, e in labels.items() if close[0] in (e.target_id, e.name))
            hint = f" (did you mean {match}?)"
        missing.append(
            MissingReference(
                ref,
                f"{ref.where}: {ref.value!r} is not among the target organisation's {what} "
                f"({len(entries)} listed){hint}",
            )
        )
    return missing
