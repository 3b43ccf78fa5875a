"""What the pages show beyond the stored rows: links into the Zoho Books web app, the YAML
a ``needs_mapping`` record asks for, and CSV cells a spreadsheet cannot execute."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..yamlfile import load_yaml

# The Books web app of each data centre: ``https://books.zoho.<tld>/app/<organization_id>``,
# the address the web app shows after log-in (zoho-books.md §1 lists the data centres; the
# app host follows each centre's domain -- Canada's is zohocloud.ca like its accounts
# server, the stricter reading, unverified).  A document is ``#/<section>/<id>``.
WEB_APP = {
    "com": "https://books.zoho.com",
    "eu": "https://books.zoho.eu",
    "in": "https://books.zoho.in",
    "com.au": "https://books.zoho.com.au",
    "jp": "https://books.zoho.jp",
    "ca": "https://books.zohocloud.ca",
    "com.cn": "https://books.zoho.com.cn",
    "sa": "https://books.zoho.sa",
    "uk": "https://books.zoho.uk",
}
SECTIONS = {
    "invoice": "invoices",
    "sales_receipt": "salesreceipts",
    "credit_note": "creditnotes",
    "customer_payment": "paymentsreceived",
    "credit_refund": "creditnotes",
    "contact": "contacts",
    "item": "inventory/items",
}
_WHERE = re.compile(r"add it under (?P<section>[\w.\-]+) in (?P<path>\S+?\.ya?ml)")


def zoho_link(settings: dict[str, Any], target_kind: str, target_id: str) -> str | None:
    """The web-app address of a Zoho Books document, or ``None`` when not known."""
    section = SECTIONS.get(target_kind)
    org = settings.get("organization_id")
    host = WEB_APP.get(str(settings.get("data_center") or "com"))
    if section is None or not org or host is None:
        return None
    return f"{host}/app/{org}#/{section}/{target_id}"


def mapping_hint(
    reason: str | None, missing_key: str | None, mapping_files: set[Path]
) -> dict[str, str] | None:
    """Where to add the missing mapping and the YAML to add there.

    The engine's reason names the section and the file (``... add it under
    lookups.payment_methods.entries in mappings/woocommerce.yaml``); the entry's shape is
    copied from one of its siblings in that file, so the snippet is one the mapping accepts
    once the placeholder values are filled in.  Only the pipelines' own mapping files
    (``mapping_files``) are read.
    """
    if not missing_key:
        return None
    value = missing_key.split(":", 1)[1] if ":" in missing_key else missing_key
    match = _WHERE.search(reason or "")
    if match is None:
        return {"file": "", "section": "", "snippet": f"{value}: ...  # {missing_key}"}
    section, path = match.group("section"), match.group("path")
    known = Path(path).resolve() in mapping_files
    example = _sibling(Path(path), section.split(".")) if known else "..."
    indent = ""
    lines = []
    for part in section.split("."):
        lines.append(f"{indent}{part}:")
        indent += "  "
    lines.append(f"{indent}{value}: {example}")
    return {"file": path, "section": section, "snippet": "\n".join(lines)}


def _sibling(path: Path, parts: list[str]) -> str:
    """An existing entry's shape with placeholder values, e.g. ``{payment_mode: ...}``."""
    try:
        node: Any = load_yaml(path, interpolate=False).data
    except ConfigError:
        return "...  # the same shape as the other entries"
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and node:
        first = next(iter(node.values()))
        if isinstance(first, dict):
            return "{" + ", ".join(f"{k}: ..." for k in first) + "}"
        return "...  # e.g. " + str(first)
    return "...  # the same shape as the other entries"


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


__all__ = ["csv_cell", "mapping_hint", "zoho_link"]
