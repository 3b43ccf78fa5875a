"""WooCommerce's error answers as ``ledgerbridge.errors`` classes: the kit's ``ErrorTable`` with
WooCommerce's own codes as a rule.  Errors are ``{"code", "message", "data": {"status"}}``; the
hosts and WAFs in front of WordPress add theirs (HTML pages, 429/503, ModSecurity's 501)."""

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
    if refusal.status == 404 and refusal.code == "rest_no_route":
        hint = "; is WooCommerce active with pretty permalinks, and is store_url right?"
        return RouteMissing(refusal.text + hint, **refusal.kw)
    if refusal.status == 501:
        return PermissionDenied(
            refusal.text + "; blocked or unsupported by the host (WAF?)", **refusal.kw
        )
    return None
