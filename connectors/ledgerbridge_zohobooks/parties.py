"""Contacts and items in Zoho Books: found by our key, an exact e-mail, name or SKU -- never a
"contains" match -- and created through the read-back of ``Books.create``, so a create whose
answer was lost is found, not made twice.

Within one tenure of the pipeline's lease the look-ups are answered from a one-page copy of
the organisation's contacts and items when the engine asks for one (``prepare_lookups``,
``directory``); the read-back after a lost answer always searches.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.errors import AuthFailed, SyncError
from ledgerbridge.plan import ContactDraft, ItemDraft, Link, TargetRef

from . import directory, models, payloads, shapes
from .books import Books, plain_ref

log = logging.getLogger(__name__)


class Parties(Books):
    """The ``Target`` methods for contacts and items."""

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        now = context.clock.now
        self._service_items: dict[str, str] = {}  # receipt service items by purpose
        # Copies of the contacts and items for one tenure of a lease (``prepare_lookups``).
        self._lookup_scope = ""
        self._directories = {
            "contacts": directory.Directory("/contacts", "contacts", now),
            "items": directory.Directory("/items", "items", now, directory.ALL_ITEMS),
        }

    async def service_item(self, purpose: str) -> str:
        """The connector's item for receipt lines without one (``shapes.SERVICE_ITEMS``),
        found by its SKU or created once, then cached."""
        if purpose not in self._service_items:
            sku, name = shapes.SERVICE_ITEMS[purpose]
            found = await self.find_item(sku=sku)
            if found is None:
                found = await self.create_item(
                    ItemDraft(link=Link(key=f"item:sku:{sku}"), name=name, sku=sku, rate=Decimal(0))
                )
            self._service_items[purpose] = found.target_id
        return self._service_items[purpose]

    async def prepare_lookups(self, *, contacts: int = 0, items: int = 0, scope: str = "") -> None:
        """Read the organisation's contacts / items as one page each for the look-ups of
        this tenure of the pipeline's lease (``directory``); forget what another read."""
        if not scope or scope != self._lookup_scope:
            for copy in self._directories.values():
                copy.drop()
        self._lookup_scope = scope
        for kind, wanted in (("contacts", contacts), ("items", items)):
            copy = self._directories[kind]
            if not wanted:
                continue
            try:
                await copy.load(self._reader(copy.path))
            except AuthFailed:
                raise
            except SyncError as exc:  # no copy: the look-ups search one by one
                log.info("Zoho Books: %s not read in bulk (%s); searching", kind, exc)

    def _reader(self, path: str) -> directory.Reader:
        async def read(params: dict[str, Any]) -> dict[str, Any]:
            return await self.client.call("GET", path, params=params)

        return read

    async def _create_tracked(
        self, kind: str, body: dict[str, Any], find: Callable[[], Awaitable[TargetRef | None]]
    ) -> TargetRef:
        """Create a contact or item (``kind``: ``contacts``/``items``) and keep the bulk copy
        in step: the new row is added; an adopted row (not in hand) or a failed create (it
        may exist without being in the copy) drops the copy."""
        copy = self._directories[kind]
        try:
            result = await self.create(f"/{kind}", body, find)
        except SyncError:
            copy.drop()
            raise
        if isinstance(result, TargetRef):
            copy.drop()
            return result
        copy.add(result[kind[:-1]])
        return _ref(kind, result)

    async def _update(self, kind: str, ref: TargetRef, body: dict[str, Any]) -> TargetRef:
        self._directories[kind].drop()  # its e-mail, key or SKU may change
        return _ref(kind, await self.client.call("PUT", f"/{kind}/{ref.target_id}", body=body))

    async def find_contact(
        self,
        *,
        email: str | None = None,
        key: str | None = None,
        name: str | None = None,
        currency: str | None = None,
    ) -> TargetRef | None:
        """Our key field, then the exact e-mail; with ``currency``, only a contact in that
        currency: a Zoho contact has one currency and its documents follow it (facts doc
        §7.1, §15), so a EUR order never lands on the same customer's USD contact.
        Answered from the lease tenure's copy of the contacts when it has one (``directory``)."""
        if self._directories["contacts"].fresh():
            found = directory.match_contact(
                self._directories["contacts"].rows(), field=self.settings.contact_key_field,
                key=key, email=email, name=name, currency=currency,
            )  # fmt: skip
            return plain_ref("contact", found) if found else None
        return await self._search_contact(email, key, name, currency)

    async def _search_contact(
        self, email: str | None, key: str | None, name: str | None, currency: str | None
    ) -> TargetRef | None:
        """``find_contact`` by searches: always, after a create whose response was lost."""
        field = self.settings.contact_key_field
        searches: list[tuple[dict[str, Any], dict[str, str | None]]] = []
        if key and field:
            searches.append(({"search_text": key}, {"key": key}))
        if email:
            searches.append(({"email": email}, {"email": email}))
        if name:  # GET /contacts?contact_name= (contacts.yml, list-contacts); exact match only
            searches.append(({"contact_name": name}, {"name": name}))
        for query, wanted in searches:
            rows = await self.client.pages("/contacts", "contacts", query)
            found = directory.match_contact(rows, field=field, currency=currency, **wanted)
            if found:
                return plain_ref("contact", found)
        return None

    async def _contact_body(self, draft: ContactDraft) -> dict[str, Any]:
        currency_id = (await self.currency(draft.currency)).currency_id if draft.currency else None
        values = dict(draft.custom_fields)
        if self.settings.contact_key_field:
            values[self.settings.contact_key_field] = draft.link.key
        fields = await self.custom_fields("contacts", values)
        return payloads.contact_body(draft, currency_id=currency_id, fields=fields)

    async def create_contact(self, draft: ContactDraft) -> TargetRef:
        body = await self._contact_body(draft)

        async def find() -> TargetRef | None:  # after a lost response: search, never the copy
            name = draft.display_name if draft.unique_name else None
            return await self._search_contact(draft.email, draft.link.key, name, draft.currency)

        return await self._create_tracked("contacts", body, find)

    async def update_contact(self, ref: TargetRef, draft: ContactDraft) -> TargetRef:
        return await self._update("contacts", ref, await self._contact_body(draft))

    async def find_item(self, *, sku: str) -> TargetRef | None:
        """The item with exactly this SKU: from the lease tenure's copy of the items when it has
        one (``directory``), else a search."""
        copy = self._directories["items"]
        if copy.fresh():
            found = directory.match_item(copy.rows(), sku)
            return plain_ref("item", found) if found else None
        return await self._search_item(sku)

    async def _search_item(self, sku: str) -> TargetRef | None:
        # The Books spec has no sku filter: search, then insist on an exact SKU match.
        found = directory.match_item(
            await self.client.pages("/items", "items", {**directory.ALL_ITEMS, "search_text": sku}),
            sku,
        )
        return plain_ref("item", found) if found else None

    async def _item_body(self, draft: ItemDraft) -> dict[str, Any]:
        base = await self.base_currency() or "USD"
        return payloads.item_body(draft, places=await self.places(base))

    async def create_item(self, draft: ItemDraft) -> TargetRef:
        body = await self._item_body(draft)

        async def find() -> TargetRef | None:  # after a lost response: search, never the copy
            return await self._search_item(draft.sku) if draft.sku else None

        return await self._create_tracked("items", body, find)

    async def update_item(self, ref: TargetRef, draft: ItemDraft) -> TargetRef:
        return await self._update("items", ref, await self._item_body(draft))


def _ref(kind: str, answer: dict[str, Any]) -> TargetRef:
    """The created or updated contact or item of a write's answer."""
    if kind == "contacts":
        return plain_ref("contact", models.Contact.model_validate(answer["contact"]).contact_id)
    return plain_ref("item", models.Item.model_validate(answer["item"]).item_id)
