"""The opaque checkpoint of an API2Cart walk: the kit's shared watermark checkpoint
(``ledgerbridge.incremental``) with two lanes, ``modified`` and ``deleted`` (orders with
``is_deleted=true`` keep a watermark of their own).

Cursors are not stored: they belong to one walk and may expire.  The watermark is the
returned ``modified_at.value``, and the next walk starts ``modified_overlap`` before it
because the filter's time zone is undocumented; the (id, version) pairs handed over inside
that window are remembered, so the window is re-read without handing any of them over again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ledgerbridge.incremental import Checkpoint as Shared

from .envelope import PLATFORM


class Checkpoint(Shared):
    LANES = ("modified", "deleted")
    PLATFORM = PLATFORM


def filter_value(watermark: datetime, overlap: timedelta, timezone: str) -> str:
    """``modified_from`` in API2Cart's format, in ``timezone``, ``overlap`` before the mark."""
    return (watermark - overlap).astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S")
