"""The connector kit's catalog parts: what a connector's catalog half needs and none should
write again (docs/catalog.md, "The catalog kit"; docs/writing-a-connector.md).

A catalog connector (``contracts.catalog``) reads products changed since a checkpoint and
writes fields of variants.  Its platform-specific part is its listing call, its mapper and
its write bodies; the rest was written four times, once in each built-in connector, in
each one's own words, and lives here:

- ``reading``: ``PageOfProducts`` (a page whose unmappable records are parked, not
  crashed) and ``NewestSeen`` (the checkpoint an unordered walk hands over with its last
  page, held back by the clock-skew margin ``SKEW``).
- ``shaping``: ``money``, ``stock`` and ``catalog_product`` (the canonical records a read
  gives) and ``StatusWords`` (a platform's words for active/inactive).
- ``writing``: ``FieldTable``/``Column`` (catalog field -> platform field, declared),
  ``per_product`` (product-level fields merged, one body per product), ``Outcomes`` (one
  result per write; chunks sent and failed together), ``one_by_one``,
  ``chunks``, ``refusal`` (a platform's per-object refusal as ``ValidationFailed``) and
  ``exact_json`` (a body's ``Decimal`` prices as their exact text).
- ``connector``: ``KitCatalog``, the base class over the borrowed source or target.

Connectors import this package, never ``ledgerbridge.catalog`` (the engine's side).
"""

from .connector import KitCatalog
from .reading import MAPPING_ERRORS, SKEW, NewestSeen, PageOfProducts
from .shaping import StatusWords, catalog_product, money, stock
from .writing import (
    Column,
    FieldTable,
    Outcomes,
    ProductWrite,
    chunks,
    exact_json,
    one_by_one,
    per_product,
    refusal,
)

__all__ = [
    "MAPPING_ERRORS",
    "SKEW",
    "Column",
    "FieldTable",
    "KitCatalog",
    "NewestSeen",
    "Outcomes",
    "PageOfProducts",
    "ProductWrite",
    "StatusWords",
    "catalog_product",
    "chunks",
    "exact_json",
    "money",
    "one_by_one",
    "per_product",
    "refusal",
    "stock",
]
