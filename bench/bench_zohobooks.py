"""Zoho Books connector: overhead per write, refresh single-flight, and the org limiter.

All against the in-process emulator (httpx ASGI transport), so the figures are the
connector's own cost; Zoho itself allows ~90-100 calls/min per organisation.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import anyio
import httpx
from figures import Figure

from ledgerbridge.contracts import ConnectorContext
from ledgerbridge.contracts.context import MemoryCredentials
from ledgerbridge.plan import (
    BusinessKey,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    Link,
    LookupKind,
)
from ledgerbridge_zohobooks.emulator import EmulatorLimits, create_app
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
)
from ledgerbridge_zohobooks.jsonmoney import dumps
from ledgerbridge_zohobooks.limits import LimitConfig, OrgLimiter
from ledgerbridge_zohobooks.payloads import document_body
from ledgerbridge_zohobooks.settings import ZohoBooksSecrets, ZohoBooksSettings
from ledgerbridge_zohobooks.target import ZohoBooksTarget

BASE = "http://books.bench.test"


class FastClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await anyio.sleep(0)


def _target(unlimited: bool = True):
    app = create_app(limits=EmulatorLimits(per_minute=10**9, default_daily=10**9))
    state = app.emulator.state
    context = ConnectorContext(
        connection_id="bench/books",
        tenant_id="bench",
        settings=ZohoBooksSettings(
            organization_id=MAIN_ORG,
            api_url=BASE,
            accounts_url=BASE,
            key_field="cf_ledgerbridge_key",
        ),
        secrets=ZohoBooksSecrets(
            client_id=EMULATOR_CLIENT_ID,
            client_secret=EMULATOR_CLIENT_SECRET,
            refresh_token=state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT),
        ),
        transport=httpx.ASGITransport(app=app),
        credentials=MemoryCredentials(),
    )
    target = ZohoBooksTarget(context)
    if unlimited:  # measure the connector, not Zoho's 100/min budget
        target.limit_config = LimitConfig(per_minute=10**9, daily_quota=10**9, max_in_flight=10)
        target.settings.organization_id = MAIN_ORG
    return target, state


def _draft(contact_id: str, n: int) -> DocumentDraft:
    return DocumentDraft(
        kind=DocumentKind.INVOICE,
        key=BusinessKey(reference=f"B-{n}", source_key=f"bench:{n}"),
        contact=Link(key="c", target_id=contact_id),
        date=date(2026, 1, 5),
        currency="USD",
        lines=tuple(
            DocumentLine(description=f"Line {i}", quantity=Decimal(2), rate=Decimal("19.99"))
            for i in range(5)
        ),
        shipping_charge=Decimal("4.90"),
    )


async def _writes(count: int) -> float:
    target, state = _target()
    contact_id = next(iter(state.organizations[MAIN_ORG].contacts))
    await target.identity()
    await target.lookups(LookupKind.CURRENCIES)
    start = time.perf_counter()
    for n in range(count):
        await target.create_document(_draft(contact_id, n))
    elapsed = time.perf_counter() - start
    await target.aclose()
    return count / elapsed


async def _storm(calls: int) -> int:
    target, state = _target()
    async with anyio.create_task_group() as tg:
        for _ in range(calls):
            tg.start_soon(target.lookups, LookupKind.TAXES)
    await target.aclose()
    return state.refresh_requests


async def _limiter_minute() -> int:
    clock = FastClock()
    limiter = OrgLimiter("bench", LimitConfig(per_minute=90, daily_quota=10**6), clock)
    admitted = 0
    while clock.now() < 120.0:
        async with limiter.slot():
            admitted += 1
    return admitted


def run() -> list[Figure]:
    writes = anyio.run(_writes, 200)
    refreshes = anyio.run(_storm, 200)
    admitted = anyio.run(_limiter_minute)
    fields = [{"customfield_id": "4600000000000000099", "value": "bench:1"}]
    body = document_body(_draft("4600000000000000001", 1), places=2, fields=fields)
    start = time.perf_counter()
    for _ in range(20000):
        dumps(body)
    encode = 20000 / (time.perf_counter() - start)
    return [
        Figure("zohobooks", "invoice creates (search + create + mark sent), in-process emulator",
               writes, "invoices/s", "connector overhead << Zoho's ~1.5 calls/s budget"),
        Figure("zohobooks", "token requests for 200 concurrent calls with no token", refreshes,
               "requests", "1"),
        Figure("zohobooks", "calls admitted by the org limiter in 120 s (90/min, burst 5)",
               admitted, "calls", "~185 (5 at once + 1.5/s; no 60 s window over 95)"),
        Figure("zohobooks", "invoice bodies encoded with exact decimals", encode, "bodies/s"),
    ]  # fmt: skip
