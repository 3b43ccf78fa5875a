"""WooCommerce's error statuses as ``ledgerbridge.errors`` classes: the kit's table
(``ledgerbridge.http.ErrorTable``) with WooCommerce's own codes as rules.

WooCommerce errors are ``{"code", "message", "data": {"status"}}``; hosts and WAFs in front
of WordPress add their own (HTML pages, 429/503 with or without ``Retry-After``,
ModSecurity's 501).  A success that is not the JSON we expect (a PHP warning before the body,
a maintenance page with status 200) is retried by the kit's client -- never an empty page.
"""

from __future__ import annotations

import httpx

from ledgerbridge.errors import NotFound, PermissionDenied, SyncError, TransientError
from ledgerbridge.http import ErrorTable
from ledgerbridge.http.responses import Refusal

PLATFORM = "woocommerce"


class RouteMissing(NotFound):
    """``rest_no_route``: WooCommerce inactive, permalinks not pretty, wrong base URL, or a
    route newer than the site (``/refunds`` before 9.0). A configuration problem, not a record."""

    needs_operator = True


class TimedOut(TransientError):
    """The host did not answer in time -- on WordPress usually a page too large for its PHP
    limits, so readers halve ``per_page`` before trying again."""


class StoreTooOld(SyncError):
    """The store ignored ``modified_after`` (WooCommerce before the filter existed):
    incremental reads cannot be trusted on it. Someone must upgrade or switch to full scans."""

    needs_operator = True


ADVICE = {
    401: "check the consumer key/secret and their permission",
    403: "the key's user lacks this capability",
}
ERRORS = ErrorTable(PLATFORM, timeout=TimedOut, advice=ADVICE)


@ERRORS.rule
def _woocommerce(response: httpx.Response, refusal: Refusal) -> SyncError | None:
    status, text, kw = refusal.status, refusal.text, refusal.kw
    if status == 404 and refusal.code == "rest_no_route":
        return RouteMissing(
            text + "; is WooCommerce active with pretty permalinks, and is store_url right?", **kw
        )
    if status == 501:
        return PermissionDenied(text + "; blocked or unsupported by the host (WAF?)", **kw)
    return None


error_for = ERRORS.error_for
