"""GraphQL documents and answers: the parts every GraphQL platform client writes again.

- ``Fragments``: a connector keeps its selections as named fragments in one text; a document
  is an operation plus exactly the fragments it spreads, followed transitively (a GraphQL
  server rejects a document with an unused fragment).
- ``connection`` / ``listed``: a nested connection's selection, paged (``first``,
  ``pageInfo``, ``nodes``) or, with ``first=None``, as a bulk export wants it (``edges``, no
  pagination arguments); a plain list field the same way.
- ``string_literal``: a value inlined into a document that takes no variables.
- ``error_code`` / ``error_text``: ``errors[].extensions.code`` and the messages of a GraphQL
  answer (GraphQL over HTTP answers a rejected query with HTTP 200 and an ``errors`` list).

Pagination of connections themselves is in ``pagination`` (``connection_pages``,
``complete_connection``).
"""

from __future__ import annotations

import re
from typing import Any

_SPREAD = re.compile(r"\.\.\.([A-Za-z_]\w*)")


class Fragments:
    """Named fragments (``fragment Name on Type { ... }``, one after another in ``text``)."""

    def __init__(self, text: str) -> None:
        chunks = re.split(r"\n(?=fragment )", text.strip())
        self.by_name = {c.split()[1]: c.strip() for c in chunks}

    def document(self, body: str) -> str:
        """The operation ``body`` plus exactly the fragments it uses, sorted by name."""
        needed: list[str] = []
        pending = [m for m in _SPREAD.findall(body) if m != "on"]
        while pending:
            name = pending.pop()
            if name in needed:
                continue
            needed.append(name)
            pending += [m for m in _SPREAD.findall(self.by_name[name]) if m != "on"]
        return "\n".join([body.strip(), *(self.by_name[n] for n in sorted(needed))]) + "\n"


def connection(field: str, fragment: str, first: int | None, args: str = "") -> str:
    """A nested connection: paged (``first``, ``pageInfo``, ``nodes``) or, with ``first``
    None, a bulk one (bulk exports ignore pagination and answer ``edges``)."""
    if first is None:
        return f"{field}{f'({args})' if args else ''} {{ edges {{ node {{ ...{fragment} }} }} }}"
    args = f"first: {first}" + (f", {args}" if args else "")
    return f"{field}({args}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ ...{fragment} }} }}"


def listed(field: str, selection: str, first: int | None) -> str:
    """A plain list field, ``first`` items (bulk: no argument)."""
    return f"{field}{'' if first is None else f'(first: {first})'} {{ {selection} }}"


def string_literal(value: str) -> str:
    """``value`` as a GraphQL string literal (for a document that takes no variables)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def error_code(error: Any) -> str | None:
    """``extensions.code`` of one entry of a GraphQL ``errors`` list."""
    ext = error.get("extensions") if isinstance(error, dict) else None
    return ext.get("code") if isinstance(ext, dict) else None


def error_text(body: Any) -> tuple[str | None, str | None]:
    """``(first code, messages joined)`` of an answer's ``errors`` -- a GraphQL list, or the
    plain string some REST endpoints of the same platform send; ``ErrorTable.reader``-shaped."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors:
        said = "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
        return next((c for c in map(error_code, errors) if c), None), said
    return None, errors if isinstance(errors, str) else None


__all__ = ["Fragments", "connection", "error_code", "error_text", "listed", "string_literal"]
