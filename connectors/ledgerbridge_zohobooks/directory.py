"""A short-lived copy of an organisation's contacts or items, read as one list page.

Why: without it every new customer and SKU costs its own search before its create (``GET
/contacts?email=``, ``GET /items?search_text=``).  An organisation with at most one page of
them (200 rows: facts doc §6; ``per_page`` "Maximum value is 200", ``contacts.yml``
list-contacts / ``items.yml`` list-items) answers every such look-up from one read.  The
rows are those a filtered search returns (the same list operation, unfiltered), and the
connector re-checks the e-mail, key field, name or SKU itself (facts doc §7.1, §7.2), so a
look-up matches exactly as the search did.

Freshness, and why exactly-once holds:

* A copy serves one tenure of the pipeline's lease (the engine's ``scope``, see
  ``Target.prepare_lookups``), and at most ``TTL`` seconds. Under the lease no other holder
  of the pipeline writes; anything an earlier holder created -- including one that crashed
  between the create and recording its binding -- happened before the tenure began, so it
  is in the copy, found and adopted, not created twice.
* What this connector creates while the copy is fresh is added to it (``add``).
* A create whose outcome stays unknown, an adoption after a lost response, or an update
  drops the copy (``drop``): the next look-up reads the organisation again. The look-up
  after a lost response itself never uses the copy (it searches).
* An organisation with more than one page (``has_more_page``) is not copied; its
  look-ups search one by one, as before, and the page is not read again for
  ``OVERSIZED_TTL`` seconds.

Another pipeline writing into the same organisation is not kept out by this pipeline's
lease, so the engine asks for no bulk copy when the configuration has one (it passes no
look-ups and no scope). What it does not cover: a person in the web app creating the same
customer during the ``TTL`` -- a window that a search-then-create also has, only shorter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from . import models
from .client import more_pages

TTL = 120.0  # seconds at most a copy answers look-ups, even within one tenure
OVERSIZED_TTL = 600.0  # seconds an organisation found too large is not read again
PAGE = 200  # facts doc §6: the largest page Zoho returns
# Every item list asks for inactive items too (items.yml list-items ``filter_by``: Status.All,
# Status.Active, Status.Inactive; no default documented): an item a merchant made inactive
# still holds its SKU, so a look-up that missed it would create a second item for it, and a
# catalog would never see the status change.
ALL_ITEMS = {"filter_by": "Status.All"}

Reader = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Directory:
    """One kind of master data (``contacts`` or ``items``) of one organisation."""

    def __init__(
        self,
        path: str,
        list_key: str,
        now: Callable[[], float],
        params: dict[str, str] | None = None,
    ) -> None:
        self.path, self.list_key, self.now = path, list_key, now
        self.params = params or {}  # filters every read of this list carries
        self._rows: list[dict[str, Any]] | None = None
        self._read_at = 0.0
        self._oversized_at: float | None = None
        self.reads = 0  # list pages read (for tests and figures)

    def fresh(self) -> bool:
        return self._rows is not None and self.now() - self._read_at < TTL

    def rows(self) -> Iterator[dict[str, Any]]:
        """The rows of a fresh directory (check ``fresh`` first)."""
        return iter(self._rows or [])

    async def load(self, read: Reader) -> None:
        """Read the first page unless the directory is fresh or the organisation was
        found too large a short while ago."""
        if self.fresh():
            return
        if self._oversized_at is not None and self.now() - self._oversized_at < OVERSIZED_TTL:
            return
        self._rows = None
        read_at = self.now()  # before the call: a row created during it is in the next read
        body = await read({**self.params, "page": 1, "per_page": PAGE})
        self.reads += 1
        if more_pages(body):
            self._oversized_at = self.now()
            return
        self._oversized_at = None
        self._rows = list(body.get(self.list_key) or [])
        self._read_at = read_at

    def add(self, row: dict[str, Any]) -> None:
        """A row this connector just created (kept only while the directory is fresh)."""
        if self._rows is not None:
            self._rows.append(row)

    def drop(self) -> None:
        """Forget the copy: the organisation may hold a row it does not show."""
        self._rows = None


def match_contact(
    rows: Iterator[dict[str, Any]] | list[dict[str, Any]],
    *,
    field: str | None = None,
    key: str | None = None,
    email: str | None = None,
    name: str | None = None,
    currency: str | None = None,
) -> str | None:
    """The id of the first row matching exactly -- our key field, else the e-mail (any
    case), else the contact name -- in ``currency`` when given (facts doc §7.1: a contact
    has one currency; e-mail and name searches may match loosely, so we never trust them)."""
    contacts = [models.Contact.model_validate(r) for r in rows]
    in_currency = [c for c in contacts if _in(c, currency)]
    if key and field:
        for c in in_currency:
            if c.custom_field_hash.get(field) == key:
                return c.contact_id
    if email:
        for c in in_currency:
            if (c.email or "").lower() == email.lower():
                return c.contact_id
    if name:
        for c in in_currency:
            if c.contact_name == name:
                return c.contact_id
    return None


def match_item(rows: Iterator[dict[str, Any]] | list[dict[str, Any]], sku: str) -> str | None:
    """The id of the item whose SKU is exactly ``sku`` (facts doc §7.2: there is no SKU
    filter, a ``search_text`` search matches more)."""
    for row in rows:
        item = models.Item.model_validate(row)
        if item.sku == sku:
            return item.item_id
    return None


def _in(contact: models.Contact, currency: str | None) -> bool:
    """Whether ``contact`` is in ``currency`` (any, when None). A row that states no
    currency is taken as not matching: a wrong-currency contact fails every document."""
    return currency is None or (contact.currency_code or "").upper() == currency.upper()
