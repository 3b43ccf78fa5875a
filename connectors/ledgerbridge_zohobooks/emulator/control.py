"""The Zoho Books emulator's chaos controls: write kinds, throttle bodies, token knobs, books.

``controlled(app)`` wraps the emulator in ``ledgerbridge.sandbox.control.ControlSurface``
(faults and kills over HTTP) and tells it what Zoho-specific means:

- **write kinds** (the connector's writes, facts doc §7): ``contact``, ``item``, ``create``
  (invoice, sales receipt), ``credit_note``, ``update``, ``void``, ``mark_sent``, ``payment``,
  ``apply_credit``, ``refund_credit``; the scope of a write is its ``organization_id``;
- **throttle faults** answered before the call is processed, with Zoho's bodies (facts doc §5,
  refdata ``ratelimit_concurrency_1070.json`` and ``ratelimit_per_minute_44_api.json``):
  ``throttle_1070`` (HTTP 429, code 1070) and ``throttle_44`` (HTTP 429, code 44);
- **actions**: ``expire_tokens`` (every access token past its 3600 s lifetime, facts doc §2.8),
  ``revoke`` (the given refresh tokens, else all, revoked as ``POST /oauth/v2/token/revoke``
  does, facts doc §2.5, and the access tokens expired -- the stricter reading, so the worker
  meets the revocation at once), ``auth_counters`` (token-endpoint calls so far, and a refresh
  token's refreshes since its revocation);
- **export** of one organisation's books (documents with their refunds and applications,
  payments, contacts, items): the state a verifier reads instead of the sync's own store.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from ledgerbridge.sandbox.control import ControlSurface

from ..jsonmoney import dumps
from .app import API
from .state import EmulatorState

# Bodies as Zoho sends them (facts doc §5; refdata official-docs-envelopes).
THROTTLE_1070 = {
    "code": 1070,
    "message": "You have reached the maximum number of in process requests allowed. "
    "Kindly try again after some time.",
}
THROTTLE_44 = {
    "code": 44,
    "message": "For security reasons your organization has been blocked as it have exceeded the "
    "maximum number of requests per minute that can originate from an organization.",
}

# (method, path pattern under /books/v3) -> write kind; first match wins (facts doc §7).
WRITE_KINDS: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), k)
    for m, p, k in (
        ("POST", r"^/contacts$", "contact"),
        ("PUT", r"^/contacts(/[^/]+)?$", "contact"),
        ("POST", r"^/items$", "item"),
        ("PUT", r"^/items/[^/]+$", "item"),
        # a catalog's status write (items.yml mark_item_active / mark_item_inactive)
        ("POST", r"^/items/[^/]+/(active|inactive)$", "item"),
        ("POST", r"^/(invoices|salesreceipts)$", "create"),
        ("PUT", r"^/(invoices|salesreceipts)$", "create"),  # upsert by unique custom field
        ("POST", r"^/creditnotes$", "credit_note"),
        ("PUT", r"^/(invoices|salesreceipts|creditnotes)/[^/]+$", "update"),
        ("POST", r"^/(invoices|creditnotes)/[^/]+/status/void$", "void"),
        ("POST", r"^/invoices/[^/]+/status/sent$", "mark_sent"),
        ("POST", r"^/customerpayments$", "payment"),
        ("POST", r"^/creditnotes/[^/]+/invoices$", "apply_credit"),
        ("POST", r"^/creditnotes/[^/]+/refunds$", "refund_credit"),
    )
]
KINDS = tuple(dict.fromkeys(kind for _, _, kind in WRITE_KINDS))


def classify(method: str, path: str, query: dict[str, str]) -> tuple[str, str] | None:
    """``(organization_id, write kind)`` of a write the connector makes; None for the rest."""
    if not path.startswith(API):
        return None
    rest = path.removeprefix(API)
    for m, pattern, kind in WRITE_KINDS:
        if m == method and pattern.match(rest):
            return query.get("organization_id", ""), kind
    return None


def export_books(state: EmulatorState, organization_id: str) -> dict[str, Any]:
    """One organisation's books (amounts stay ``Decimal``; the surface writes them as strings)."""
    org = state.organizations[organization_id]

    def public(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if not k.startswith("_")}

    notes = []
    for row in org.creditnotes.values():
        note = public(row)
        note["refunds"] = [str(a) for a in row.get("_refunds", [])]
        note["applied"] = {k: str(v) for k, v in row.get("_applied", {}).items()}
        notes.append(note)
    return {
        "organization_id": organization_id,
        "currency_code": org.currency_code,
        "invoices": [public(r) for r in org.invoices.values()],
        "salesreceipts": [public(r) for r in org.salesreceipts.values()],
        "creditnotes": notes,
        "payments": [public(r) for r in org.payments.values()],
        "contacts": [public(r) for r in org.contacts.values()],
        "items": [public(r) for r in org.items.values()],
    }


class RefreshCounter:
    """ASGI wrapper counting token-endpoint refreshes per refresh token (the request is replayed).

    Zoho allows 10 access tokens per refresh token per 10 minutes (facts doc §2.8), so a
    verifier counts per refresh token: how many a worker asked for after its token died.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.emulator = getattr(app, "emulator", None)
        self.refreshes: dict[str, int] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != "/oauth/v2/token":
            await self.app(scope, receive, send)
            return
        messages, more = [], True
        while more:
            message = await receive()
            messages.append(message)
            more = bool(message.get("more_body"))
        form = dict(parse_qsl(b"".join(m.get("body", b"") for m in messages).decode()))
        query = dict(parse_qsl(scope.get("query_string", b"").decode()))
        token = {**query, **form}.get("refresh_token")
        if token:
            self.refreshes[token] = self.refreshes.get(token, 0) + 1
        replay = iter(messages)

        async def again() -> Any:
            return next(replay, {"type": "http.disconnect"})

        await self.app(scope, again, send)


def controlled(app: Any, *, seed: int = 0) -> ControlSurface:
    """The Zoho Books emulator app (``create_app``) behind the chaos control surface."""
    emulator = app.emulator
    state: EmulatorState = emulator.state
    counter = RefreshCounter(app)
    marks: dict[str, int] = {}  # refresh token -> refreshes when it was revoked

    def expire(body: dict[str, Any]) -> dict[str, Any]:
        """``{"tokens": [...]}``: the access tokens of those refresh tokens (else every one)."""
        state.expire_access_tokens(body.get("tokens") or None)
        return {"expired": len(state.access_tokens)}

    def revoke(body: dict[str, Any]) -> dict[str, Any]:
        """``{"tokens": [...]}``: those refresh tokens (else every one); access tokens expire."""
        tokens = list(body.get("tokens") or state.refresh_tokens)
        for token in tokens:
            marks[token] = counter.refreshes.get(token, 0)
            state.refresh_tokens.pop(token, None)
        state.expire_access_tokens(body.get("tokens") or None)
        return {"revoked": len(tokens)}

    def counters(body: dict[str, Any]) -> dict[str, Any]:
        """``{"token": ...}``: also that refresh token's refreshes since its revocation."""
        token = str(body.get("token", ""))
        return {
            "token_requests": state.token_requests,
            "revoked": token in marks,
            "since_revoke": counter.refreshes.get(token, 0) - marks.get(token, 0),
            "refresh_requests": state.refresh_requests,
            "code_exchanges": state.code_exchanges,
            "api_calls": emulator.api_calls,
        }

    return ControlSurface(
        counter,
        classify,
        responders={
            "throttle_1070": (429, dumps(THROTTLE_1070).encode()),
            "throttle_44": (429, dumps(THROTTLE_44).encode()),
        },
        exporters={"books": lambda q: export_books(state, q.get("scope", ""))},
        actions={"expire_tokens": expire, "revoke": revoke, "auth_counters": counters},
        seed=seed,
    )
