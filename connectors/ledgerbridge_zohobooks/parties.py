"""Contacts and items in Zoho Books: found by our key, an exact e-mail, name or SKU -- never a
"contains" match -- and created through the read-back of ``Books.create``, so a create whose
answer was lost is found, not made twice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.plan import ContactDraft, ItemDraft, Link, TargetRef

from . import models, payloads, shapes
from .books import Books, plain_ref


class Parties:
    """The ``Target`` methods for contacts and items, held by ``ZohoBooksTarget``."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self._service_items: dict[str, str] = {}  # receipt service items by purpose

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
        §7.1, §15), so a EUR order never lands on the same customer's USD contact."""
        field = self.books.settings.contact_key_field
        if key and field:
            rows = await self.books.client.pages("/contacts", "contacts", {"search_text": key})
            for row in rows:
                contact = models.Contact.model_validate(row)
                if contact.custom_field_hash.get(field) == key and _in(contact, currency):
                    return plain_ref("contact", contact.contact_id)
        if email:
            rows = await self.books.client.pages("/contacts", "contacts", {"email": email})
            for row in rows:
                contact = models.Contact.model_validate(row)
                # exact, never "contains"
                if (contact.email or "").lower() == email.lower() and _in(contact, currency):
                    return plain_ref("contact", contact.contact_id)
        if name:  # GET /contacts?contact_name= (contacts.yml, list-contacts); exact match only
            rows = await self.books.client.pages("/contacts", "contacts", {"contact_name": name})
            for row in rows:
                contact = models.Contact.model_validate(row)
                if row.get("contact_name") == name and _in(contact, currency):
                    return plain_ref("contact", contact.contact_id)
        return None

    async def _contact_body(self, draft: ContactDraft) -> dict[str, Any]:
        currency_id = (
            (await self.books.currency(draft.currency)).currency_id if draft.currency else None
        )
        values = dict(draft.custom_fields)
        if self.books.settings.contact_key_field:
            values[self.books.settings.contact_key_field] = draft.link.key
        fields = await self.books.custom_fields("contacts", values)
        return payloads.contact_body(draft, currency_id=currency_id, fields=fields)

    async def create_contact(self, draft: ContactDraft) -> TargetRef:
        body = await self._contact_body(draft)

        async def find() -> TargetRef | None:
            return await self.find_contact(
                email=draft.email,
                key=draft.link.key,
                name=draft.display_name if draft.unique_name else None,
                currency=draft.currency,
            )

        result = await self.books.create("/contacts", body, find)
        if isinstance(result, TargetRef):
            return result
        return plain_ref("contact", models.Contact.model_validate(result["contact"]).contact_id)

    async def update_contact(self, ref: TargetRef, draft: ContactDraft) -> TargetRef:
        body = await self._contact_body(draft)
        result = await self.books.client.call("PUT", f"/contacts/{ref.target_id}", body=body)
        return plain_ref("contact", models.Contact.model_validate(result["contact"]).contact_id)

    async def find_item(self, *, sku: str) -> TargetRef | None:
        # The Books spec has no sku filter: search, then insist on an exact SKU match.
        rows = await self.books.client.pages("/items", "items", {"search_text": sku})
        for row in rows:
            item = models.Item.model_validate(row)
            if item.sku == sku:
                return plain_ref("item", item.item_id)
        return None

    async def create_item(self, draft: ItemDraft) -> TargetRef:
        base = await self.books.base_currency() or "USD"
        body = payloads.item_body(draft, places=await self.books.places(base))

        async def find() -> TargetRef | None:
            return await self.find_item(sku=draft.sku) if draft.sku else None

        result = await self.books.create("/items", body, find)
        if isinstance(result, TargetRef):
            return result
        return plain_ref("item", models.Item.model_validate(result["item"]).item_id)

    async def update_item(self, ref: TargetRef, draft: ItemDraft) -> TargetRef:
        base = await self.books.base_currency() or "USD"
        body = payloads.item_body(draft, places=await self.books.places(base))
        result = await self.books.client.call("PUT", f"/items/{ref.target_id}", body=body)
        return plain_ref("item", models.Item.model_validate(result["item"]).item_id)


def _in(contact: models.Contact, currency: str | None) -> bool:
    """Whether ``contact`` is in ``currency`` (any, when None). A row that states no
    currency is taken as not matching: a wrong-currency contact fails every document."""
    return currency is None or (contact.currency_code or "").upper() == currency.upper()
