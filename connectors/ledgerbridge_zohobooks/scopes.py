"""The minimal OAuth scopes the connector needs, one per module it touches (facts doc §2.9)."""

from __future__ import annotations

SCOPES: tuple[tuple[str, str], ...] = (
    ("ZohoBooks.contacts.ALL", "find, create and update customers"),
    (
        "ZohoBooks.settings.ALL",
        "organisations, taxes, currencies, custom fields and items (Books has no items scope)",
    ),
    ("ZohoBooks.invoices.ALL", "invoices and sales receipts (void and mark-sent need CREATE)"),
    ("ZohoBooks.customerpayments.ALL", "customer payments and advances"),
    ("ZohoBooks.creditnotes.ALL", "credit notes, their application and refunds"),
    ("ZohoBooks.accountants.READ", "chart of accounts, to validate mapped accounts"),
    ("ZohoBooks.banking.READ", "bank accounts, to validate deposit and refund accounts"),
)

SCOPE_STRING = ",".join(scope for scope, _ in SCOPES)
