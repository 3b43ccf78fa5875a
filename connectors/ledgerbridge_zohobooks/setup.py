"""What an organisation must hold before the first write: custom fields and the ids the
connection's own settings name (``mappings validate --against`` asks, through
``Target.verify_setup``).

Custom fields: a document or contact naming a custom field the organisation lacks is
refused by Zoho (HTTP 400, code 2 "Invalid value passed for custom_fields"), so every
order would fail on a fresh organisation.  The merchant creates them in the web app
(Settings -> Preferences -> the module -> Field Customization) and the connection states
which exist (``settings.custom_fields``); at write time the connector resolves each to
its id or label from ``GET /settings/fields`` (``customfields.py``).  The check here
compares what the mapping and the settings write with that statement, module by module,
and says how to create what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ledgerbridge.contracts.target import FieldNeed, SetupProblem
from ledgerbridge.plan import LookupEntry, LookupKind

from .customfields import MODULES
from .settings import ZohoBooksSettings

# Target-neutral record kind -> the Zoho module its custom fields belong to.
MODULE_OF = {module.record: name for name, module in MODULES.items()}
# ``key_field`` is written on invoices, credit notes and payments (target.py); sales
# receipts take no custom fields (sales-receipt.yml) and are found by receipt_number.
KEY_FIELD_RECORDS = ("invoice", "credit_note", "payment")


def setting_needs(settings: ZohoBooksSettings) -> list[FieldNeed]:
    """The custom fields the connection's own settings write."""
    needs: list[FieldNeed] = []
    if settings.key_field:
        needs += [FieldNeed(r, settings.key_field, "settings.key_field") for r in KEY_FIELD_RECORDS]
    if settings.contact_key_field:
        needs.append(FieldNeed("contact", settings.contact_key_field, "settings.contact_key_field"))
    return needs


def how_to_create(module: str, name: str, *, unique: bool = False) -> str:
    label = MODULES[module].label if module in MODULES else module
    rule = " and set it not to accept duplicates" if unique else ""
    return (
        f"in Zoho Books open Settings -> Preferences -> {label} -> Field Customization -> "
        f"New Custom Field, give it the API name {name} (data type Text){rule}; then list it "
        f"in the connection's settings: custom_fields: {{{module}: [{name}]}}"
    )


def custom_field_problems(
    settings: ZohoBooksSettings, needs: Sequence[FieldNeed]
) -> list[SetupProblem]:
    """Every needed custom field the connection does not state the organisation has."""
    declared: dict[str, set[str]] = {m: set(names) for m, names in settings.custom_fields.items()}
    problems: list[SetupProblem] = []
    seen: set[tuple[str, str]] = set()
    for need in [*needs, *setting_needs(settings)]:
        module = MODULE_OF.get(need.record)
        if module is None:
            problems.append(
                SetupProblem(need.where, f"Zoho Books has no records of kind {need.record!r}")
            )
            continue
        if module == "salesreceipts":
            continue  # receipts take no custom fields (sales-receipt.yml): never written
        if need.name in declared.get(module, set()) or (module, need.name) in seen:
            continue
        seen.add((module, need.name))
        unique = need.where == "settings.key_field" and settings.key_field_unique
        problems.append(
            SetupProblem(
                need.where,
                f"custom field {need.name} on {module} is not in the organisation "
                f"(settings.custom_fields.{module} does not list it): every {need.record} "
                "written with it would be refused",
                how_to_create(module, need.name, unique=unique),
            )
        )
    return problems


def account_problems(
    settings: ZohoBooksSettings, accounts: Iterable[LookupEntry]
) -> list[SetupProblem]:
    """The ids the connection's settings name, checked against the chart of accounts."""
    if not settings.refund_account_id:
        return []
    known = {a.target_id for a in accounts}
    if settings.refund_account_id in known:
        return []
    return [
        SetupProblem(
            "settings.refund_account_id",
            f"{settings.refund_account_id!r} is not among the organisation's accounts or "
            "bank accounts",
            "pick an account id from `ledgerbridge mappings init --against` output",
        )
    ]


def declared_fields(settings: ZohoBooksSettings) -> list[LookupEntry]:
    """The custom fields the connection states, as lookup entries (``mappings init``)."""
    return [
        LookupEntry(
            kind=LookupKind.CUSTOM_FIELDS,
            target_id=name,
            name=name,
            details={"module": module},
        )
        for module, names in settings.custom_fields.items()
        for name in names
    ]
