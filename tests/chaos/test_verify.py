"""The harness's verdict catches what it claims to: each kind of wrong book is counted."""

from __future__ import annotations

import copy
from typing import Any

from bench.chaos.verify import verify

SHOP = {"11": {"currency": "USD", "total": "10.00"}, "12": {"currency": "USD", "total": "5.00"}}


def _invoice(order: str, number: str, total: str, balance: str, status: str) -> dict[str, Any]:
    return {
        "invoice_id": f"id-{number}",
        "invoice_number": number,
        "reference_number": f"#{order}",
        "status": status,
        "total": total,
        "balance": balance,
        "custom_field_hash": {"cf_source_order_id": order},
    }


def _books() -> dict[str, Any]:
    return {
        "invoices": [
            _invoice("11", "INV-1", "10.00", "0.00", "paid"),
            _invoice("12", "INV-2", "5.00", "5.00", "sent"),
        ],
        "salesreceipts": [],
        "payments": [
            {
                "reference_number": "t-11",
                "custom_field_hash": {"cf_source_order_id": "11"},
                "amount": "10.00",
                "unused_amount": "0.00",
                "invoices": [{"invoice_id": "id-INV-1", "amount_applied": "10.00"}],
            }
        ],
        "creditnotes": [
            {
                "reference_number": "r-11",
                "status": "closed",
                "total": "2.00",
                "balance": "0.00",
                "refunds": ["2.00"],
                "applied": {},
                "custom_field_hash": {"cf_source_order_id": "11"},
            }
        ],
        "contacts": [{"contact_name": "Ada", "email": "ada@example.com"}],
        "items": [{"sku": "MUG", "name": "Mug"}],
    }


def test_identical_books_are_clean() -> None:
    verdict = verify(_books(), _books(), SHOP, [], [])
    assert verdict.clean, verdict.details


def test_a_duplicate_document_payment_and_contact_are_counted() -> None:
    chaos = _books()
    chaos["invoices"].append(_invoice("12", "INV-3", "5.00", "5.00", "sent"))
    chaos["payments"].append(copy.deepcopy(chaos["payments"][0]))
    chaos["contacts"].append({"contact_name": "Ada", "email": "ada@example.com"})
    verdict = verify(chaos, _books(), SHOP, [], [])
    assert verdict.duplicates == 3 and not verdict.clean


def test_a_missing_document_is_counted_unless_the_order_is_parked() -> None:
    chaos = _books()
    del chaos["invoices"][1]
    assert verify(chaos, _books(), SHOP, [], []).missing == 1
    parked = [{"record": "order 12", "state": "failed", "why": "Zoho refused"}]
    verdict = verify(chaos, _books(), SHOP, parked, [])
    assert verdict.missing == 0 and verdict.parked_by_harness == 1  # held, but not in the reference
    assert verify(chaos, _books(), SHOP, parked, parked).clean  # a genuine park


def test_the_payment_of_a_parked_order_is_the_parks_not_missing() -> None:
    chaos = _books()
    del chaos["invoices"][0], chaos["payments"][0], chaos["creditnotes"][0]
    parked = [{"record": "order 11", "state": "failed", "why": "dead credentials"}]
    verdict = verify(chaos, _books(), SHOP, parked, [])
    assert (verdict.missing, verdict.parked_by_harness) == (0, 1)
    assert verify(chaos, _books(), SHOP, [], []).missing == 3


def test_money_differences_a_cent_off_and_an_open_refunded_credit_note() -> None:
    chaos = _books()
    chaos["invoices"][0]["total"] = "10.02"
    chaos["invoices"][0]["balance"] = "0.02"
    chaos["creditnotes"][0]["balance"] = "0.03"
    verdict = verify(chaos, _books(), SHOP, [], [])
    # total vs the reference, balance vs the reference, total vs the shop; the credit note
    # differs from the reference and is refunded yet open
    assert verdict.money == 5, verdict.details
    assert not verdict.clean


def test_a_summary_credit_note_the_clean_run_leaves_open_alike_is_not_counted() -> None:
    """A daily summary's credit note holds the day's refunds: those that returned money are
    refunded, store credit stays open -- in the reference book as in the chaos book."""
    books = _books()
    note = books["creditnotes"][0]
    note.update(total="7.00", balance="5.00", status="open", custom_field_hash={})
    note["reference_number"] = "Refunds 2026-03-01 USD"
    assert verify(books, copy.deepcopy(books), SHOP, [], []).clean
    reference = copy.deepcopy(books)
    reference["creditnotes"][0].update(balance="0.00", refunds=["2.00", "5.00"])
    assert verify(books, reference, SHOP, [], []).money >= 1  # the clean run refunded it all


def test_extra_voided_documents_are_orphans_and_a_draft_is_a_state_difference() -> None:
    chaos = _books()
    chaos["invoices"].append(_invoice("12", "INV-9", "5.00", "0.00", "void"))
    chaos["invoices"][1]["status"] = "draft"
    verdict = verify(chaos, _books(), SHOP, [], [])
    assert (verdict.orphans, verdict.state) == (1, 1)
