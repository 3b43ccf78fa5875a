"""A platform's own return codes, each declared once as the ``ledgerbridge.errors`` class it is.

Some APIs answer HTTP 200 for everything and put the outcome in the body (API2Cart's
``return_code``, SOAP faults, many ERP gateways).  ``ErrorTable`` maps HTTP statuses; this is
its twin for such body codes.  The connector declares the documented codes by class, with
what each means in words the operator can act on, and gets one function from a code to an
error: retry behaviour then follows from the class (``RateLimited``/``TransientError`` are
retried, ``AuthFailed`` stops for an operator, ``ValidationFailed`` parks), so no connector
writes that if-chain again.  A code the platform never documented is ``undocumented`` --
by default ``ValidationFailed``: not retried blindly, and the message says it was unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SyncError, ValidationFailed


@dataclass(frozen=True)
class ReturnCode:
    """One documented code: its class, what it means, and how the message reads
    (``said``: ``{meaning}`` and the platform's own ``{message}``)."""

    error: type[SyncError]
    meaning: str
    said: str = "{meaning} ({message})"


@dataclass
class ReturnCodes:
    """The documented codes of one platform (``declare`` them by class)."""

    platform: str
    codes: dict[Any, ReturnCode] = field(default_factory=dict)
    undocumented: ReturnCode = ReturnCode(ValidationFailed, "undocumented return code")

    def declare(
        self,
        error: type[SyncError],
        meanings: Mapping[Any, str],
        *,
        said: str = "{meaning} ({message})",
    ) -> None:
        """``meanings``: code -> what it means, all raised as ``error``."""
        for code, meaning in meanings.items():
            self.codes[code] = ReturnCode(error, meaning, said)

    def error(self, code: Any, message: str, where: str, **extra: Any) -> SyncError:
        """The error for ``code``: ``"<where>: <said>"``, carrying the platform, the code and
        the platform's message; ``extra`` (e.g. ``retry_after``) goes to the error as given."""
        entry = self.codes.get(code, self.undocumented)
        text = entry.said.format(meaning=entry.meaning, message=message)
        return entry.error(
            f"{where}: {text}",
            platform=self.platform,
            code=code,
            platform_message=message,
            **extra,
        )


__all__ = ["ReturnCode", "ReturnCodes"]
