"""The Zoho Books ``Target``: plan drafts in, Zoho Books records out.

``ZohoBooksTarget`` is the organisation (``books.Books``) with every part that writes to it
(``parties``, ``documents``, ``movements``, ``lookups``): the ``Target`` methods are the
parts' own.
"""

from __future__ import annotations

from ledgerbridge.contracts import Target

from .lookups import Lookups
from .movements import MoneyMovements


class ZohoBooksTarget(MoneyMovements, Lookups, Target):
    pass
