"""One scenario per operation family, recorded as one cassette each.

``python -m tests.zohobooks.cassette_scenarios`` re-records ``cassettes/zohobooks``
against the emulator (in process); with ``--real`` it records against a real
Zoho Books organisation using credentials from the environment (docs/recording.md).
Secrets (tokens, client id/secret, refresh token, organization id) are replaced
by placeholders before anything is written.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx

from ledgerbridge.contracts.context import MemoryCredentials
from ledgerbridge.plan import (
    BusinessKey,
    ContactDraft,
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    DocumentLine,
    ItemDraft,
    Link,
    LookupKind,
    PaymentDraft,
)
from ledgerbridge.testing.cassettes import assert_scrubbed, scrubbing_vcr
from ledgerbridge_zohobooks.emulator import create_app
from ledgerbridge_zohobooks.emulator.seed import (
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
    MAIN_ORG,
    MERCHANT,
)
from ledgerbridge_zohobooks.target import ZohoBooksTarget

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "zohobooks"
BASE = "http://books.emulator.test"
ACCESS_TOKEN = "1000.cassette-access-token.recorded"  # emulator-only fake token
REFRESH_TOKEN = "1000.cassette-refresh-token.recorded"  # emulator-only fake token
DAY = date(2026, 1, 5)
ORG_PLACEHOLDER = "0000000000"


def secrets_for(
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    organization_id: str,
    tokens: list[str],
) -> dict[str, str]:
    values = {
        client_secret: "<CLIENT_SECRET>",
        refresh_token: "<REFRESH_TOKEN>",
        client_id: "<CLIENT_ID>",
        # Digits, so a replaying target can be configured with it (settings require digits).
        organization_id: ORG_PLACEHOLDER,
    }
    for n, token in enumerate(tokens):
        values[token] = f"<ACCESS_TOKEN_{n}>"
    return values


EMULATOR_SECRETS = secrets_for(
    client_id=EMULATOR_CLIENT_ID,
    client_secret=EMULATOR_CLIENT_SECRET,
    refresh_token=REFRESH_TOKEN,
    organization_id=MAIN_ORG,
    tokens=[ACCESS_TOKEN],
)


def _contact(key: str = "contact:shop:cassette") -> ContactDraft:
    return ContactDraft(link=Link(key=key), display_name="Cassette Buyer", email="cassette@example.com",
                        currency="USD")  # fmt: skip


async def _contact_id(target: ZohoBooksTarget) -> str:
    found = await target.find_contact(email="cassette@example.com")
    return (found or await target.create_contact(_contact())).target_id


def _invoice(
    contact_id: str, reference: str, kind: DocumentKind = DocumentKind.INVOICE, **kw: Any
) -> DocumentDraft:
    return DocumentDraft(
        kind=kind,
        key=BusinessKey(reference=reference, source_key=f"shop:s1:{reference}"),
        contact=Link(key="c", target_id=contact_id),
        date=DAY,
        currency="USD",
        lines=(
            DocumentLine(
                description="Cassette mug",
                quantity=Decimal(2),
                rate=Decimal("12.50"),
                discount=Decimal("1.00"),
            ),
        ),
        shipping_charge=Decimal("4.90"),
        **kw,
    )


async def auth(target: ZohoBooksTarget) -> Any:
    return await target.identity()


async def lookups(target: ZohoBooksTarget) -> Any:
    return {kind: await target.lookups(kind) for kind in (
        LookupKind.TAXES, LookupKind.CURRENCIES, LookupKind.ACCOUNTS, LookupKind.BANK_ACCOUNTS)}  # fmt: skip


async def contacts(target: ZohoBooksTarget) -> Any:
    ref = await target.create_contact(_contact())
    found = await target.find_contact(email="CASSETTE@example.com")
    updated = await target.update_contact(
        ref, _contact().model_copy(update={"display_name": "Renamed"})
    )
    return ref, found, updated


async def items(target: ZohoBooksTarget) -> Any:
    draft = ItemDraft(
        link=Link(key="item:sku:CAS-1"), name="Cassette mug", sku="CAS-1", rate=Decimal("12.50")
    )
    ref = await target.create_item(draft)
    found = await target.find_item(sku="CAS-1")
    updated = await target.update_item(ref, draft.model_copy(update={"rate": Decimal("13.00")}))
    return ref, found, updated


async def _taxes(target: ZohoBooksTarget) -> dict[str, str]:
    return {e.name: e.target_id for e in await target.lookups(LookupKind.TAXES)}


async def invoices(target: ZohoBooksTarget) -> Any:
    """Line discounts (item_level) with an untaxed shipping charge; an order discount
    (entity_level); a taxed shipping charge sent as a taxed line with the order discount
    folded into the product lines; a rounding adjustment; a EUR invoice with its exchange
    rate; custom fields by customfield_id (the key field) throughout."""
    cid = await _contact_id(target)
    ref = await target.create_document(_invoice(cid, "CAS-100"))
    doc = await target.get_document(ref)
    found = await target.find_document(DocumentKind.INVOICE, _invoice(cid, "CAS-100").key)
    await target.void_document(ref)
    taxes = await _taxes(target)
    plain = DocumentLine(description="Cassette lamp", quantity=Decimal(1), rate=Decimal("40.00"),
                         tax_id=taxes["VAT 10"])  # fmt: skip
    entity = _invoice(cid, "CAS-101", discount=Decimal("4.00"))
    entity = entity.model_copy(update={"lines": (plain,), "shipping_charge": None})
    await target.create_document(entity)
    shipped = _invoice(cid, "CAS-102", discount=Decimal("4.00"), taxes_included=True,
                       shipping_tax_id=taxes["VAT 10"])  # fmt: skip
    await target.create_document(shipped.model_copy(update={"lines": (plain,)}))
    rounded = await target.create_document(_invoice(cid, "CAS-103"))
    await target.update_document(
        rounded,
        _invoice(
            cid,
            "CAS-103",
            adjustment=Decimal("-0.01"),
            adjustment_description="Rounding difference",
        ),
    )
    eur = await target.create_contact(
        _contact("contact:shop:cassette:EUR").model_copy(update={"currency": "EUR"})
    )
    await target.create_document(
        _invoice(eur.target_id, "CAS-104", exchange_rate=Decimal("1.08")).model_copy(
            update={"currency": "EUR"}
        )
    )
    return ref, doc, found


async def salesreceipts(target: ZohoBooksTarget) -> Any:
    cid = await _contact_id(target)
    ref = await target.create_document(
        _invoice(cid, "CAS-200", DocumentKind.SALES_RECEIPT, payment_mode="cash")
    )
    return ref, await target.get_document(ref)


async def payments(target: ZohoBooksTarget) -> Any:
    cid = await _contact_id(target)
    invoice = await target.create_document(_invoice(cid, "CAS-300"))
    paid = await target.record_payment(
        PaymentDraft(key=BusinessKey(reference="CAS-300-P", source_key="shop:s1:CAS-300:pay"),
                     contact=Link(key="c", target_id=cid), amount=Decimal("28.90"), currency="USD",
                     date=DAY, payment_mode="creditcard",
                     applied_to=((Link(key="i", target_id=invoice.target_id), Decimal("28.90")),))
    )  # fmt: skip
    advance = await target.record_payment(
        PaymentDraft(key=BusinessKey(reference="CAS-301-P", source_key="shop:s1:CAS-301:pay"),
                     contact=Link(key="c", target_id=cid), amount=Decimal("15.00"), currency="USD",
                     date=DAY, payment_mode="banktransfer")
    )  # fmt: skip
    assert advance.target_id != paid.target_id
    return invoice, paid, await target.get_document(invoice)


async def creditnotes(target: ZohoBooksTarget) -> Any:
    cid = await _contact_id(target)
    invoice = await target.create_document(_invoice(cid, "CAS-400"))
    inv_link = Link(key="i", target_id=invoice.target_id)
    note = await target.create_document(
        _invoice(cid, "CAS-400-R1", DocumentKind.CREDIT_NOTE, against=inv_link)
    )
    note_link = Link(key="n", target_id=note.target_id)
    await target.apply_credit(
        CreditApplication(credit_note=note_link, document=inv_link, amount=Decimal("10.00"))
    )
    accounts = await target.lookups(LookupKind.BANK_ACCOUNTS)
    refund = await target.refund_credit(
        CreditRefundDraft(credit_note=note_link, amount=Decimal("18.90"), date=DAY,
                          from_account_id=accounts[0].target_id)
    )  # fmt: skip
    return invoice, note, refund, await target.get_document(note)


FAMILIES: dict[str, Callable[[ZohoBooksTarget], Awaitable[Any]]] = {
    "auth": auth,
    "lookups": lookups,
    "contacts": contacts,
    "items": items,
    "invoices": invoices,
    "salesreceipts": salesreceipts,
    "payments": payments,
    "creditnotes": creditnotes,
}


def emulator_target(
    transport: httpx.AsyncBaseTransport | None, organization_id: str = MAIN_ORG
) -> ZohoBooksTarget:
    """A target whose token must be refreshed first (so every cassette shows the refresh)."""
    from .helpers import make_target

    return make_target(
        BASE,
        None,
        organization_id=organization_id,
        refresh_token=REFRESH_TOKEN,
        transport=transport,
        credentials=MemoryCredentials(),
    )


def emulator_transport() -> httpx.AsyncBaseTransport:
    app = create_app()
    state = app.emulator.state  # type: ignore[attr-defined]
    state.refresh_tokens[REFRESH_TOKEN] = (EMULATOR_CLIENT_ID, MERCHANT)
    state.preset_access_tokens.append(ACCESS_TOKEN)
    return httpx.ASGITransport(app=app)


async def play(
    family: str, transport: httpx.AsyncBaseTransport | None, target: ZohoBooksTarget | None = None
) -> Any:
    target = target or emulator_target(transport, ORG_PLACEHOLDER)
    try:
        return await FAMILIES[family](target)
    finally:
        await target.aclose()


# Zoho access tokens look like 1000.<hex>.<hex>; tokens minted while recording against a
# real organisation are not known beforehand, so they are also replaced by pattern.
TOKEN_PATTERN = re.compile(r"1000\.[0-9a-f]{16,}\.[0-9a-f]{16,}")


def record(
    directory: Path,
    family: str,
    secrets: dict[str, str],
    target_factory: Callable[[], ZohoBooksTarget],
) -> Any:
    path = directory / f"{family}.yaml"
    path.unlink(missing_ok=True)
    vcr = scrubbing_vcr(directory, secrets, record_mode="all")
    with vcr.use_cassette(path.name):
        result = anyio.run(lambda: play(family, None, target_factory()))
    path.write_text(TOKEN_PATTERN.sub("<ZOHO_TOKEN>", path.read_text()))
    assert_scrubbed(path, secrets)
    return result


def main() -> None:  # pragma: no cover - a maintainer's tool
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real", action="store_true", help="record against real Zoho Books")
    parser.add_argument("families", nargs="*", default=list(FAMILIES))
    args = parser.parse_args()
    CASSETTES.mkdir(parents=True, exist_ok=True)
    for family in args.families:
        if args.real:
            from .real_zoho import real_secrets, real_target

            # Real recordings live apart: the unit tests replay the emulator's cassettes.
            live = CASSETTES / "live"
            live.mkdir(exist_ok=True)
            record(live, family, real_secrets(), real_target)
        else:
            record(
                CASSETTES, family, EMULATOR_SECRETS, lambda: emulator_target(emulator_transport())
            )
        print(f"recorded {family}")


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
