"""Master data of a unit of work: the contacts and items its plans name, resolved to
target ids before the first document is written.

Contacts and items are resolved binder-first (cross-reference), then by business key in
the target, and created only when absent; resolved ids are cached for the run, and the
drafts' links are filled from them (``fill_links``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..contracts.target import Target
from ..plan import (
    ContactDraft,
    CreditApplication,
    DocumentDraft,
    ItemDraft,
    Link,
    PaymentDraft,
    TargetRef,
)
from .batch import Batch
from .journal import Journal, off_loop
from .planner import Draft


class MasterData:
    """The run's resolved contacts and items (cached from unit to unit)."""

    def __init__(self, target: Target, journal: Journal) -> None:
        self.target = target
        self.journal = journal
        self.contacts: dict[str, str] = {}
        self.items: dict[str, str] = {}
        # (entity, external) of master data the store has no binding of (see ``prime``)
        self.unbound: set[tuple[str, str]] = set()
        # Resolved contact and item links, shared by every draft that names them.
        self.links: dict[tuple[str, str], Link] = {}
        # Names the pipeline's current tenure of its lease (set by the runner each time it
        # takes the lease): what the target read in bulk for look-ups may serve while it
        # stays the same (``Target.prepare_lookups``). Empty: each unit reads afresh.
        self.lookup_scope = ""
        # False when another pipeline writes into the same organisation: a copy read in bulk
        # would not see what that pipeline creates meanwhile, so every look-up searches.
        self.bulk_lookups = True

    _db = staticmethod(off_loop)

    def share(self, key: str, target_id: str) -> None:
        if (key, target_id) not in self.links:
            self.links[(key, target_id)] = Link(key=key, target_id=target_id)

    async def prime(self, plans: Any) -> None:
        """Fill the run's caches with the bound contacts and items of a unit (one query)."""
        wanted: dict[str, list[str]] = {"customer": [], "item": []}
        for plan in plans:
            if not plan.writes:
                continue
            if plan.contact is not None:
                external = _contact_external(plan.contact)
                if external not in self.contacts:
                    wanted["customer"].append(external)
            wanted["item"] += [i.link.key for i in plan.items if i.link.key not in self.items]
        if wanted["customer"] or wanted["item"]:
            for b in await self._db(self.journal.binder.bindings_of, wanted):
                if b.entity == "customer" and b.target_kind == "contact":
                    self.contacts[b.external_id] = b.target_id
                elif b.entity == "item" and b.target_kind == "item":
                    self.items[b.external_id] = b.target_id
        contacts = {e for e in wanted["customer"] if e not in self.contacts}
        items = {e for e in wanted["item"] if e not in self.items}
        self.unbound |= {("customer", e) for e in contacts} | {("item", e) for e in items}
        # Every unit says so, even with nothing to look up: what the target read in bulk
        # under another tenure of the lease must not answer this unit's look-ups.
        bulk = self.bulk_lookups
        await self.target.prepare_lookups(
            contacts=len(contacts) if bulk else 0,
            items=len(items) if bulk else 0,
            scope=self.lookup_scope if bulk else "",
        )

    async def resolve_contact(
        self, draft: ContactDraft, keys: list[tuple[str, str]], batch: Batch
    ) -> str:
        """Binding, then the target's business keys in the mapping's order, then create."""

        async def find() -> TargetRef | None:
            for kind, value in keys:
                found = None
                if kind == "email":
                    found = await self.target.find_contact(email=value, currency=draft.currency)
                elif kind in ("key", "source_id"):
                    found = await self.target.find_contact(key=value, currency=draft.currency)
                elif kind == "name" and draft.unique_name:
                    found = await self.target.find_contact(name=value, currency=draft.currency)
                if found is not None:
                    return found
            return None

        return await self._resolve(
            self.contacts, "customer", _contact_external(draft), "contact", find,
            lambda: self.target.create_contact(draft), batch,
        )  # fmt: skip

    async def resolve_item(self, draft: ItemDraft, batch: Batch) -> str:
        """Binding, then the target's item with the same SKU, then create."""

        async def find() -> TargetRef | None:
            return await self.target.find_item(sku=draft.sku) if draft.sku else None

        return await self._resolve(
            self.items, "item", draft.link.key, "item", find,
            lambda: self.target.create_item(draft), batch,
        )  # fmt: skip

    async def _resolve(
        self,
        cache: dict[str, str],
        entity: str,
        external: str,
        kind: str,
        find: Callable[[], Awaitable[TargetRef | None]],
        create: Callable[[], Awaitable[TargetRef]],
        batch: Batch,
    ) -> str:
        """Master data is found before it is created, bound, audited and cached for the run.

        Creating master data needs no intent: a lost binding is found again by
        business key, never created twice."""
        if external in cache:
            return cache[external]
        if (entity, external) not in self.unbound:  # not primed by ``prime``: ask the store
            bound = await self._db(self.journal.binder.binding, entity, external, kind)
            if bound is not None:
                cache[external] = str(bound.target_id)
                return cache[external]
        self.unbound.discard((entity, external))
        found = await find()
        outcome = "adopted"
        if found is None:
            found = await create()
            outcome = "created"
        batch.add_binding(self.journal.binder.binding_row(entity, external, kind, found.target_id))
        batch.audits.append(
            self.journal.audit(
                source_id=external,
                idempotency_key=f"{kind}:{external}",
                operation=f"resolve_{kind}",
                target_id=found.target_id,
                outcome=outcome,
            )
        )
        cache[external] = found.target_id
        return found.target_id


def _contact_external(draft: ContactDraft) -> str:
    """One contact per currency: a target contact has a single currency."""
    return f"{draft.link.key}|{draft.currency or ''}"


def fill_links(
    draft: Draft | None, links: dict[str, str], shared: dict[tuple[str, str], Link]
) -> Draft | None:
    """Fill every link of a draft with the target id resolved so far (copies only what
    changes). ``shared``: resolved contact and item links, reused from order to order."""
    if draft is None:
        return None

    def fill(link: Link | None) -> Link | None:
        if link is None or link.target_id is not None:
            return link
        target_id = links.get(link.key)
        if not target_id:
            return link
        return shared.get((link.key, target_id)) or link.resolved(target_id)

    if isinstance(draft, DocumentDraft):
        lines = tuple(
            line.model_copy(update={"item": item})
            if line.item is not None and (item := fill(line.item)) is not line.item
            else line
            for line in draft.lines
        )
        return draft.model_copy(
            update={"contact": fill(draft.contact), "against": fill(draft.against), "lines": lines}
        )
    if isinstance(draft, PaymentDraft):
        applied = tuple((fill(link) or link, amount) for link, amount in draft.applied_to)
        return draft.model_copy(update={"contact": fill(draft.contact), "applied_to": applied})
    if isinstance(draft, CreditApplication):
        return draft.model_copy(
            update={"credit_note": fill(draft.credit_note), "document": fill(draft.document)}
        )
    return draft.model_copy(update={"credit_note": fill(draft.credit_note)})
