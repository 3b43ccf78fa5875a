"""Custom fields addressed the way each module's request schema declares them.

Mappings and settings name a custom field as the merchant sees it: its API name
(``cf_source_order_id``) or its label (``Source order id``). Zoho's request schemas
address it differently per module, and none by ``api_name`` (facts doc §15, "Custom
fields on writes"):

* invoices (``invoices.yml``) and credit notes: ``{customfield_id, value}`` (the credit
  note schema's plain strings are a spec defect; its responses carry objects);
* customer payments (``customer-payments.yml``): ``{label, value}``;
* contacts (``contacts.yml``): ``{index, value}`` on create, ``{index, label, value}`` on
  update -- written by ``label`` (an index names a position, not a field);
* sales receipts (``sales-receipt.yml``): no custom fields at all.

The ids and labels come from the organisation's custom-field settings
(``GET /settings/fields``, Zoho's custom-fields API page), read once per target
instance (one run) and cached: ``Catalog``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ledgerbridge.errors import NeedsMapping, ValidationFailed

PLATFORM = "zohobooks"
SETTINGS_PATH = "/settings/fields"
LIST_KEY = "customfields"


@dataclass(frozen=True)
class Module:
    """A module whose records may carry custom fields."""

    record: str  # the target-neutral record kind written into it
    label: str  # the web app's name for it (Settings -> Preferences -> <label>)
    # The ``entity`` values of the custom-fields API: the page names ``invoice`` and
    # ``contact``; the rest are read the same way (singular), with and without an underscore.
    entities: frozenset[str]
    addressed_by: str | None  # the key its request schema addresses a field by; None: no fields


ID, LABEL = "customfield_id", "label"
MODULES: dict[str, Module] = {
    "contacts": Module("contact", "Customers and Vendors",
                       frozenset({"contact", "contacts", "customer"}), LABEL),
    "invoices": Module("invoice", "Invoices", frozenset({"invoice", "invoices"}), ID),
    "salesreceipts": Module("sales_receipt", "Sales Receipts",
                            frozenset({"salesreceipt", "sales_receipt", "salesreceipts"}), None),
    "creditnotes": Module("credit_note", "Credit Notes",
                          frozenset({"creditnote", "credit_note", "creditnotes"}), ID),
    "customerpayments": Module("payment", "Payments Received", frozenset(
        {"customerpayment", "customer_payment", "customerpayments", "payment"}), LABEL),
}  # fmt: skip


@dataclass(frozen=True)
class FieldDef:
    module: str
    customfield_id: str
    label: str
    api_name: str


def _module_of(entity: str) -> str | None:
    wanted = entity.strip().lower()
    return next((name for name, module in MODULES.items() if wanted in module.entities), None)


class Catalog:
    """The organisation's custom fields by module, from ``GET /settings/fields`` rows."""

    def __init__(self, rows: Iterable[Mapping[str, Any]]) -> None:
        self.fields: dict[str, list[FieldDef]] = {}
        for row in rows:
            module = _module_of(str(row.get("entity") or ""))
            if module is None:
                continue
            self.fields.setdefault(module, []).append(
                FieldDef(
                    module,
                    str(row.get("customfield_id") or row.get("field_id") or ""),
                    str(row.get("label") or ""),
                    str(row.get("api_name") or ""),
                )
            )

    def find(self, module: str, name: str) -> FieldDef | None:
        """The field named ``name`` as the user sees it: its API name, else its label
        (case-insensitive)."""
        defs = self.fields.get(module, [])
        exact = next((d for d in defs if d.api_name == name), None)
        if exact is not None:
            return exact
        folded = name.casefold()
        return next((d for d in defs if d.label.casefold() == folded), None)

    def entries(self, module: str, values: Mapping[str, str]) -> list[dict[str, Any]]:
        """``{name: value}`` -> the module's ``custom_fields`` list, or a clear refusal."""
        if not values:
            return []
        how = MODULES[module].addressed_by if module in MODULES else None
        if how is None:
            raise ValidationFailed(
                f"Zoho Books {module} take no custom fields (its request schema declares "
                f"none), but {', '.join(sorted(values))} would be written; remove them from "
                "the mapping for this record kind",
                platform=PLATFORM,
            )
        out: list[dict[str, Any]] = []
        for name, value in values.items():
            found = self.find(module, name)
            if found is None:
                raise NeedsMapping(
                    f"custom field {name!r} is not among the organisation's {module} custom "
                    "fields (Settings -> Preferences -> Field Customization); create it "
                    "there, or name an existing one by its API name or label",
                    missing=f"custom_field:{module}:{name}",
                    platform=PLATFORM,
                )
            key = found.customfield_id if how == "customfield_id" else found.label
            out.append({how: key, "value": value})
        return out
