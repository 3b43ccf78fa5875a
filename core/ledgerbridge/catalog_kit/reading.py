"""The read half of a catalog connector: one page of mapped products, and the checkpoint a
walk hands over once it has read every page.

Every storefront and Books list changed products the same way -- page after page from a
checkpoint -- and each connector used to write the same two things around its own listing
call:

- **A page that parks what it cannot map** (``PageOfProducts``).  Platform JSON is input
  nobody controls; a product whose shape surprises its mapper becomes an entry of
  ``CatalogPage.unreadable`` (id -> ``ValidationFailed`` naming the record and the exception),
  which the engine parks, while the rest of the page syncs (docs/catalog.md, "Guarantees").
  Only the mapping is guarded: an error of the platform call itself (a ``SyncError``) still
  reaches the engine, which retries the page by its class.
- **The checkpoint after an unordered walk** (``NewestSeen``).  A listing not sorted by
  modification time (Zoho Books items in name order) or whose page numbers shift while it is
  walked (WooCommerce) can only checkpoint with its last page: the newest modification time
  read, plus a step where the platform's filter includes its own bound (Zoho Books:
  ``last_modified_time`` is inclusive, so one second past), but never later than the walk's
  start less the clock-skew margin -- whatever changed while the walk ran, or within the
  margin of the two clocks, is read again next time rather than missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from ..canonical import Product
from ..contracts.catalog import CatalogPage
from ..errors import SyncError, ValidationFailed

SKEW = timedelta(minutes=1)
"""How far this host's clock and a platform's may differ (the walk's safety margin)."""

MAPPING_ERRORS: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError, ArithmeticError)
"""What a mapper raises on a record of an unforeseen shape: a missing key, a value of the
wrong type, a number or date that does not parse (``decimal`` signals are
``ArithmeticError``)."""


class PageOfProducts:
    """The products of one listed page, and the ids of those that could not be mapped.

    ``label`` names the record kind in the parked error (``"woocommerce product"``,
    ``"zohobooks item"``): the operator reads ``<label> <id>: <exception>`` in
    ``ledgerbridge failures``.
    """

    def __init__(self, label: str, platform: str) -> None:
        self.label = label
        self.platform = platform
        self.products: list[Product] = []
        self.unreadable: dict[str, SyncError] = {}

    @contextmanager
    def mapping(self, record_id: Any) -> Iterator[None]:
        """Map one record inside this block; a mapping failure parks ``record_id``.

        A failure is an unforeseen shape (``MAPPING_ERRORS``) or an edge reader's refusal: a
        ``ValidationFailed`` naming the field (``details["field"]``, as ``parse_amount`` and
        ``guard.objects`` give it), parked with its own words.  A ``ValidationFailed`` naming
        no field came from a platform call made inside the block and reaches the engine."""
        try:
            yield
        except MAPPING_ERRORS as exc:
            self.unreadable[str(record_id)] = ValidationFailed(
                f"{self.label} {record_id}: {type(exc).__name__}: {exc}",
                platform=self.platform,
            )
        except ValidationFailed as exc:
            field = exc.details.get("field")
            if not field:  # not an edge reader's refusal: a platform call's, the engine's
                raise
            self.unreadable[str(record_id)] = ValidationFailed(
                f"{self.label} {record_id}: {exc.message}",
                platform=self.platform,
                details={"field": field},
            )

    def add(self, product: Product) -> None:
        self.products.append(product)

    def done(self, checkpoint: str | None) -> CatalogPage:
        """The page for the engine; ``checkpoint`` is stored once the page is durable."""
        return CatalogPage(self.products, checkpoint, self.unreadable)


class NewestSeen:
    """The newest modification time a walk has read, and the checkpoint it makes.

    Created when the walk starts (it notes the start less ``skew``).  ``step`` is added to
    the newest time when the platform's changed-since filter includes its bound, so records
    sharing that second are not read again on every run; ``fmt`` is how the platform's
    filter takes a time, and ``parse`` how a record's stamp is read (default: by ``fmt``).
    """

    def __init__(
        self,
        checkpoint: str | None,
        fmt: str,
        *,
        step: timedelta = timedelta(0),
        skew: timedelta = SKEW,
        parse: Callable[[str], datetime] | None = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.fmt = fmt
        self.step = step
        self.parse = parse or (lambda stamp: datetime.strptime(stamp, fmt))
        self.started = datetime.now(UTC) - skew
        self.newest: datetime | None = None

    def see(self, moment: datetime | None) -> None:
        """Note one record's modification time (None: the record carries none)."""
        if moment is not None and (self.newest is None or moment > self.newest):
            self.newest = moment

    def note(self, stamp: str | None) -> None:
        """Note one record's modification stamp as the platform writes it (empty: none)."""
        if stamp:
            self.see(self.parse(stamp))

    def settled(self) -> str | None:
        """The checkpoint after the last page: the previous one if nothing carried a time."""
        if self.newest is None:
            return self.checkpoint
        after = self.newest + self.step
        return (after if after <= self.started else self.started).strftime(self.fmt)

    def after(self, more: bool) -> str | None:
        """The checkpoint to give with a page: none while pages follow."""
        return None if more else self.settled()
