"""``mappings validate --against``: does every id the mapping names exist in the target?

A tax id copied from the wrong organisation, or an account that was archived,
would otherwise surface as a failed write in the middle of a sync.  The check
asks the target for its master data through ``Target.lookups(kind)`` (the
contract, not a platform API) and reports each missing id at its position.

Ids are not all a mapping needs: the custom fields it writes (on contacts,
documents, credit notes) must exist in the organisation too, or every write
naming them is refused.  ``field_needs`` lists them with the record they
belong to; the target's ``verify_setup`` hook says which the organisation
lacks -- and what its connection's own settings need -- with how to create it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ..contracts import Target
from ..contracts.target import FieldNeed
from ..errors import SourceLocation
from ..plan import LookupEntry, LookupKind
from .runtime import MappingRuntime, NamedReference


@dataclass(frozen=True)
class Located:
    """Where in the mapping (file:line:column) something is asked for."""

    location: SourceLocation | str


@dataclass(frozen=True)
class MissingReference:
    reference: NamedReference | Located
    message: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.reference.location}: {self.message}"


def field_needs(runtime: MappingRuntime) -> list[tuple[FieldNeed, SourceLocation]]:
    """Every custom field the mapping writes, with the record kind it goes on.

    Document fields go on invoices (every policy writes one for an unpaid order) and, under
    ``sales_receipt``, on sales receipts; refund fields on credit notes."""
    from .loader import load_document

    mapping = runtime.mapping
    records = ["invoice"] + (["sales_receipt"] if mapping.posting_policy == "sales_receipt" else [])
    wanted: list[tuple[str, str, tuple[str, ...]]] = []
    for name in mapping.contact.custom_fields:
        wanted.append(("contact", name, ("contact", "custom_fields", name)))
    for name in mapping.document.custom_fields:
        wanted += [(r, name, ("document", "custom_fields", name)) for r in records]
    for name in mapping.refunds.custom_fields:
        wanted.append(("credit_note", name, ("refunds", "custom_fields", name)))
    if not wanted:
        return []
    doc = load_document(runtime.path)
    return [
        (FieldNeed(record, name, ".".join(loc)), doc.locate(loc)) for record, name, loc in wanted
    ]


def matches(value: str, entry: LookupEntry) -> bool:
    """Whether a value the mapping names is ``entry`` (by id, name or code)."""
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
        if any(matches(ref.value, e) for e in entries):
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
    needs = field_needs(runtime)
    where = {need.where: location for need, location in needs}
    for problem in await target.verify_setup([need for need, _ in needs]):
        located = Located(where.get(problem.where, f"connection {problem.where}"))
        missing.append(MissingReference(located, problem.message, problem.fix))
    return missing
