"""The organisation a Zoho Books target writes to, and what its parts share.

``Books`` holds the client (``client.ZohoClient`` on the kit, with the rotating Zoho token
and the organisation's rate limiter), what it reads once (identity, currencies, custom
fields, taxes, exchange rates) and how a record's amounts are written (currency places,
exchange rates).  The parts that write build on it, one concern a class: ``Parties``
(contacts, items), ``Documents`` (invoices, receipts, credit notes), ``MoneyMovements``
(payments, credit applications, refunds) and ``Lookups``; ``target.ZohoBooksTarget`` is
all of them, so the ``Target`` methods are the parts' own, with no forwarding façade.

Every ``POST`` Zoho cannot de-duplicate goes through ``create``: sent once, and when its
answer is lost the target is read (each part says how to find its record) before it is sent
again; a record found that way comes back with ``adopted=True`` so the engine records the
truth.  If the read itself fails, ``OutcomeUnknown`` reaches the engine, which reads again on
its next attempt before writing anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar, cast

import httpx

from ledgerbridge.canonical.money import minor_units
from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.advice import add_to_mapping
from ledgerbridge.contracts.target import TargetIdentity
from ledgerbridge.errors import NeedsMapping, OutcomeUnknown, PermissionDenied, TransientError
from ledgerbridge.limits import RateLimiter
from ledgerbridge.plan import DocumentDraft, PaymentDraft, TargetRef

from . import customfields, models
from .auth import zoho_auth
from .client import PLATFORM, ZohoClient
from .datacenters import data_center, trusted_accounts_server
from .limits import LimitConfig, limiter_for
from .settings import ZohoBooksSettings

Rated = TypeVar("Rated", DocumentDraft, PaymentDraft)


def plain_ref(kind: str, target_id: str) -> TargetRef:
    return TargetRef(kind=kind, target_id=target_id)


class Books:
    """One organisation: its client and what is read from it once."""

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context
        self.settings = cast(ZohoBooksSettings, context.settings)
        dc = data_center(self.settings.data_center)
        overrides = frozenset(
            u.rstrip("/") for u in (self.settings.api_url, self.settings.accounts_url) if u
        )
        accounts = trusted_accounts_server(
            self.settings.accounts_url or dc.accounts_server, extra=overrides
        )
        api_domain = (self.settings.api_url or dc.api_domain).rstrip("/")
        # The accounts server is not the organisation's API: its calls are not paced.
        self.accounts_http = httpx.AsyncClient(
            transport=context.transport, timeout=httpx.Timeout(30.0, connect=10.0)
        )
        self.tokens = zoho_auth(context, accounts, self.accounts_http)
        self.limit_config = LimitConfig.for_plan(
            self.settings.plan,
            per_minute=self.settings.requests_per_minute,
            daily_quota=self.settings.daily_quota,
            max_in_flight=self.settings.max_in_flight,
            burst=self.settings.burst,
        )
        self.client = ZohoClient(
            context,
            tokens=self.tokens,
            api_base=f"{api_domain}/books/v3",
            organization_id=self.settings.organization_id,
            limiter=self._limiter,
            trusted_domains=overrides,
        )
        self._currencies: list[models.Currency] | None = None
        self._identity: TargetIdentity | None = None
        self._catalog: customfields.Catalog | None = None  # custom fields, read once
        self._tax_rates: dict[str, Decimal] | None = None
        self._rates_on: dict[tuple[str, date], Decimal | None] = {}

    def _limiter(self) -> RateLimiter:
        org = self.settings.organization_id or "-"
        return limiter_for(org, self.limit_config, self.context.clock, self.context.limiters)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.accounts_http.aclose()

    async def limits(self) -> dict[str, Any]:
        """Calls left today (Zoho's own count, read from one cheap call's headers) and the
        pacing budget of this minute in this process."""
        await self.client.call("GET", "/settings/currencies")
        limiter = self._limiter()
        # whether today's count is Zoho's own (X-Rate-Limit-* headers) or only this process's
        counted_by = (
            "platform" if getattr(limiter, "today_from_platform", False) else "this process"
        )
        return {
            "organization_id": self.settings.organization_id,
            **limiter.snapshot(),
            "today_counted_by": counted_by,
        }

    async def identity(self) -> TargetIdentity:
        body = await self.client.call("GET", "/organizations", with_org=False)
        orgs = [models.Organization.model_validate(o) for o in body.get("organizations") or []]
        reachable = tuple(o.organization_id for o in orgs)
        listing = ", ".join(f"{o.organization_id} ({o.name})" for o in orgs)
        wanted = self.settings.organization_id
        if not wanted:
            raise PermissionDenied(
                "no organization_id is configured for this Zoho Books connection; the token "
                f"reaches: {listing or 'none'}",
                platform=PLATFORM,
            )
        for org in orgs:
            if org.organization_id == wanted:
                self._identity = TargetIdentity(
                    organization_id=wanted,
                    name=org.name,
                    base_currency=org.currency_code,
                    reachable=reachable,
                )
                return self._identity
        raise PermissionDenied(
            f"the configured Zoho Books organization_id {wanted} is not reachable with this "
            f"connection's token; it reaches: "
            f"{listing or 'no organisation'}. "
            "Fix organization_id or reconnect as a user of that organisation.",
            platform=PLATFORM,
            details={"configured": wanted, "reachable": list(reachable)},
        )

    async def base_currency(self) -> str | None:
        if self._identity is None:
            await self.identity()
        return self._identity.base_currency if self._identity else None

    async def currency_list(self, *, fresh: bool = False) -> list[models.Currency]:
        if self._currencies is None or fresh:
            rows = await self.client.pages("/settings/currencies", "currencies")
            self._currencies = [models.Currency.model_validate(r) for r in rows]
        return self._currencies

    async def currency(self, code: str) -> models.Currency:
        for currency in await self.currency_list():
            if currency.currency_code == code:
                return currency
        raise NeedsMapping(
            f"currency {code} is not enabled in Zoho Books organisation "
            f"{self.settings.organization_id}; add it under Settings > Currencies",
            missing=f"currency:{code}",
            platform=PLATFORM,
        )

    async def custom_fields(self, module: str, values: dict[str, str]) -> list[dict[str, Any]]:
        """``{name: value}`` addressed as ``module``'s request schema declares; the
        organisation's custom fields are read once (``GET /settings/fields``) and cached."""
        if not values:
            return []
        fresh = self._catalog is None
        if self._catalog is None:
            self._catalog = await self._read_catalog()
        try:
            return self._catalog.entries(module, values)
        except NeedsMapping:
            if fresh:
                raise
            # Created in the web app since this run read the settings: read them once more.
            self._catalog = await self._read_catalog()
            return self._catalog.entries(module, values)

    async def _read_catalog(self) -> customfields.Catalog:
        rows = await self.client.pages(customfields.SETTINGS_PATH, customfields.LIST_KEY)
        return customfields.Catalog(rows)

    async def tax_rates(self) -> dict[str, Decimal]:
        if self._tax_rates is None:
            rows = await self.client.pages("/settings/taxes", "taxes")
            taxes = [models.Tax.model_validate(r) for r in rows]
            self._tax_rates = {t.tax_id: Decimal(str(t.tax_percentage)) for t in taxes}
        return self._tax_rates

    async def places(self, code: str) -> int:
        for currency in self._currencies or []:
            if currency.currency_code == code and currency.price_precision is not None:
                return currency.price_precision
        return minor_units(code)

    async def exchange_rate(
        self,
        what: str,
        currency: str,
        configured: Decimal | None,
        stated: dict[str, Decimal],
        on: date | None = None,
    ) -> Decimal | None:
        """The rate a record in ``currency`` is written with; None in the base currency.

        Zoho requires one for a currency other than the organisation's base currency
        (invoices.yml, ``exchange_rate``). The source's own rate comes first (the amounts
        it states in the base currency, ``stated``); then, when the pipeline takes the
        books' own rate (``on``: the day), the organisation's rate for that day; then the
        pipeline's configured one. With none the record waits for an operator -- never a
        silent 1.0.
        """
        base = await self.base_currency()
        if not base or currency == base:
            return None
        if base in stated:
            return stated[base]
        if on is not None:
            own = await self.rate_on(currency, on)
            if own is not None:
                return own
        if configured is not None:
            return configured
        books = (
            f", Zoho Books has no {currency} rate on or before {on.isoformat()} "
            f"(Settings > Currencies > {currency} > exchange rates)"
            if on is not None
            else ""
        )
        raise NeedsMapping(
            f"{what} is in {currency} but the Zoho Books organisation keeps its books in "
            f"{base}, the source states no {currency}->{base} rate{books}; set "
            f"lookups.currencies.exchange_rates.{currency} (how many {base} one {currency} "
            "is worth) in the pipeline's mapping file"
            + add_to_mapping(
                ("lookups", "currencies", "exchange_rates"),
                {currency: f"<how many {base} one {currency} is worth>"},
            ),
            missing=f"exchange_rate:{currency}",
            platform=PLATFORM,
        )

    async def rated(self, what: str, draft: Rated) -> Rated:
        """``draft`` with the rate it is written with (``exchange_rate``)."""
        rate = await self.exchange_rate(
            what, draft.currency, draft.exchange_rate, draft.stated_rates, draft.target_rate_on
        )
        return draft.model_copy(update={"exchange_rate": rate})

    async def rate_on(self, code: str, day: date) -> Decimal | None:
        """The organisation's own rate of ``code`` for ``day``: the one effective that day,
        else the closest before it; None when it has none.

        ``GET /settings/currencies/{currency_id}/exchangerates?from_date=`` (currency.yml,
        operationId ``list_exchange_rates``: "Returns the exchange rate details from the
        given date or from previous closest match in the absence of the exchange rate on
        the given date"). Whatever rows come back, only one effective on or before ``day``
        is taken, the latest such. Asked once per currency and day.
        """
        key = (code, day)
        if key in self._rates_on:
            return self._rates_on[key]
        currency = await self.currency(code)
        body = await self.client.call(
            "GET",
            f"/settings/currencies/{currency.currency_id}/exchangerates",
            params={"from_date": day.isoformat()},
        )
        best: models.ExchangeRate | None = None
        for row in body.get("exchange_rates") or []:
            rate = models.ExchangeRate.model_validate(row)
            if rate.rate is None or rate.rate <= 0 or rate.effective_date is None:
                continue
            if rate.effective_date <= day and (
                best is None or rate.effective_date > (best.effective_date or day)
            ):
                best = rate
        found = best.rate if best is not None else None
        self._rates_on[key] = found
        return found

    async def create(
        self,
        path: str,
        body: dict[str, Any],
        find: Callable[[], Awaitable[TargetRef | None]],
        *,
        params: dict[str, Any] | None = None,
        attempts: int = 3,
    ) -> dict[str, Any] | TargetRef:
        """POST once; if the outcome is unknown, ``find`` before sending again (at most
        ``attempts`` in all; see the module docstring)."""
        for attempt in range(1, attempts + 1):
            try:
                return await self.client.call("POST", path, params=params, body=body)
            except OutcomeUnknown as unknown:
                try:
                    found = await find()
                except TransientError:
                    raise unknown from None
                if found is not None:
                    return found.model_copy(update={"adopted": True})
                if attempt == attempts:
                    raise
                await self.context.clock.sleep(0.5 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover
