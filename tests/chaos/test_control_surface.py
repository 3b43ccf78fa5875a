"""The emulators' HTTP control surface: fault rules, kills after a committed write, exports.

Over a real loopback socket (``ledgerbridge.sandbox.serve``), as the chaos driver uses it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

from ledgerbridge.sandbox import serve
from ledgerbridge.sandbox.control import ControlSurface
from ledgerbridge_zohobooks.emulator import create_app as zoho_app
from ledgerbridge_zohobooks.emulator.control import classify, controlled
from ledgerbridge_zohobooks.emulator.seed import EMULATOR_CLIENT_ID, MAIN_ORG, MERCHANT


async def _things(scope, receive, send):  # a minimal platform: every POST creates a thing
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b'{"ok": true}'})


def _posts(method: str, path: str, query: dict[str, str]) -> tuple[str, str] | None:
    return (query.get("org", ""), "create") if method == "POST" else None


def test_a_rule_fires_on_its_kind_and_scope_only_as_often_as_asked() -> None:
    surface = ControlSurface(_things, _posts)
    with serve(surface) as server, httpx.Client(base_url=server.url) as http:
        rule = {"fault": "error_5xx", "kind": "create", "scope": "a", "times": 2, "skip": 1}
        http.post("/_sandbox/faults", json={"rules": [rule]})
        codes = [http.post("/x", params={"org": "a"}).status_code for _ in range(4)]
        assert codes == [201, 503, 503, 201]  # skipped one, fired twice, spent
        assert http.post("/x", params={"org": "b"}).status_code == 201  # another scope
        counters = http.get("/_sandbox/counters").json()
        assert counters["injected"] == {"a": {"error_5xx": 2}}
        assert counters["committed"] == {"a": {"create": 2}, "b": {"create": 1}}


def test_a_lost_response_commits_and_drops_the_connection() -> None:
    surface = ControlSurface(_things, _posts)
    with serve(surface) as server, httpx.Client(base_url=server.url) as http:
        http.post("/_sandbox/faults", json={"rules": [{"fault": "lose_response"}]})
        with pytest.raises(httpx.TransportError):
            http.post("/x", params={"org": "a"})
        assert http.get("/_sandbox/counters").json()["committed"] == {"a": {"create": 1}}


def test_the_registered_worker_is_killed_right_after_the_nth_committed_write() -> None:
    surface = ControlSurface(_things, _posts)
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with serve(surface) as server, httpx.Client(base_url=server.url) as http:
            http.post("/_sandbox/kill", json={"pid": victim.pid, "scope": "a"})
            http.post("/_sandbox/kill", json={"scope": "a", "kind": "create", "after": 2})
            assert http.post("/x", params={"org": "a"}).status_code == 201
            assert victim.poll() is None
            with pytest.raises(httpx.TransportError):  # committed, then the kill, no answer
                http.post("/x", params={"org": "a"})
            assert victim.wait(timeout=10) == -signal.SIGKILL
            assert http.get("/_sandbox/counters").json()["killed"] == 1
            http.delete("/_sandbox/kill", params={"scope": "a"})
            assert http.post("/x", params={"org": "a"}).status_code == 201
    finally:
        victim.kill()


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/books/v3/contacts", "contact"),
        ("POST", "/books/v3/items", "item"),
        ("POST", "/books/v3/invoices", "create"),
        ("POST", "/books/v3/salesreceipts", "create"),
        ("PUT", "/books/v3/invoices/1", "update"),
        ("POST", "/books/v3/invoices/1/status/void", "void"),
        ("POST", "/books/v3/invoices/1/status/sent", "mark_sent"),
        ("POST", "/books/v3/customerpayments", "payment"),
        ("POST", "/books/v3/creditnotes", "credit_note"),
        ("POST", "/books/v3/creditnotes/1/invoices", "apply_credit"),
        ("POST", "/books/v3/creditnotes/1/refunds", "refund_credit"),
        ("GET", "/books/v3/invoices", None),
    ],
)
def test_zoho_write_kinds(method: str, path: str, kind: str | None) -> None:
    found = classify(method, path, {"organization_id": "7"})
    assert (found[1] if found else None) == kind
    if found:
        assert found[0] == "7"


def test_zoho_throttles_answer_with_zohos_codes_and_change_nothing() -> None:
    app = zoho_app()
    state = app.emulator.state
    refresh = state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT)
    with serve(controlled(app)) as server, httpx.Client(base_url=server.url) as http:
        token = http.post(
            "/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": EMULATOR_CLIENT_ID,
                "client_secret": state.clients[EMULATOR_CLIENT_ID],
            },
        ).json()["access_token"]
        auth = {"Authorization": f"Zoho-oauthtoken {token}"}
        contact = next(iter(state.organizations[MAIN_ORG].contacts))
        body = {"customer_id": contact, "line_items": [{"name": "x", "rate": "1.00"}]}
        rules = [{"fault": "throttle_1070", "times": 1}, {"fault": "throttle_44", "times": 1}]
        http.post("/_sandbox/faults", json={"rules": rules})
        before = len(state.organizations[MAIN_ORG].invoices)
        for code in (1070, 44):
            answer = http.post(
                "/books/v3/invoices", params={"organization_id": MAIN_ORG}, json=body, headers=auth
            )
            assert (answer.status_code, answer.json()["code"]) == (429, code)
        assert len(state.organizations[MAIN_ORG].invoices) == before
        made = http.post(
            "/books/v3/invoices", params={"organization_id": MAIN_ORG}, json=body, headers=auth
        )
        assert made.status_code == 201
        books = http.get("/_sandbox/export", params={"scope": MAIN_ORG}).json()
        exported = {i["invoice_id"]: i for i in books["invoices"]}
        assert Decimal(exported[made.json()["invoice"]["invoice_id"]]["total"]) == Decimal("1.00")
        http.post("/_sandbox/action/revoke")
        assert state.refresh_tokens == {}
        refused = http.get("/books/v3/invoices", params={"organization_id": MAIN_ORG}, headers=auth)
        assert refused.status_code == 401


def test_an_action_rule_runs_the_platform_action_after_the_nth_committed_write() -> None:
    done: list[int] = []
    surface = ControlSurface(_things, _posts, actions={"revoke": lambda body: done.append(1)})
    with serve(surface) as server, httpx.Client(base_url=server.url) as http:
        assert http.post("/_sandbox/kill", json={"after": 1, "action": "nope"}).status_code == 400
        http.post("/_sandbox/kill", json={"scope": "a", "after": 2, "action": "revoke"})
        http.post("/x", params={"org": "a"})
        assert done == []
        assert http.post("/x", params={"org": "a"}).status_code == 201  # answered: no kill
        assert done == [1]


def test_revoking_one_refresh_token_counts_its_refreshes_and_spares_the_others() -> None:
    app = zoho_app()
    state = app.emulator.state
    mine, theirs = (state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT) for _ in range(2))
    secret = state.clients[EMULATOR_CLIENT_ID]
    with serve(controlled(app)) as server, httpx.Client(base_url=server.url) as http:

        def refresh(token: str) -> dict:
            form = {"grant_type": "refresh_token", "refresh_token": token}
            form |= {"client_id": EMULATOR_CLIENT_ID, "client_secret": secret}
            return http.post("/oauth/v2/token", data=form).json()

        assert "access_token" in refresh(mine)
        http.post("/_sandbox/action/revoke", json={"tokens": [mine]})
        assert refresh(mine) == {"error": "invalid_code"}
        assert refresh(mine) == {"error": "invalid_code"}
        assert "access_token" in refresh(theirs)
        counted = http.post("/_sandbox/action/auth_counters", json={"token": mine}).json()
        assert counted["revoked"] and counted["since_revoke"] == 2


def test_expiring_or_revoking_one_books_tokens_leaves_the_other_books_access_tokens_valid() -> None:
    """Found by the full tokens run: another book's expiry or revocation, fired between this
    book's refresh and its next call, expired *this* book's fresh access token, so its worker
    stopped for dead credentials it did not have. Zoho mints access tokens per refresh token."""
    app = zoho_app()
    state = app.emulator.state
    mine, theirs = (state.issue_refresh_token(EMULATOR_CLIENT_ID, MERCHANT) for _ in range(2))
    secret = state.clients[EMULATOR_CLIENT_ID]
    with serve(controlled(app)) as server, httpx.Client(base_url=server.url) as http:

        def access(token: str) -> str:
            form = {"grant_type": "refresh_token", "refresh_token": token}
            form |= {"client_id": EMULATOR_CLIENT_ID, "client_secret": secret}
            return str(http.post("/oauth/v2/token", data=form).json()["access_token"])

        def answers(token: str) -> int:
            headers = {"Authorization": f"Zoho-oauthtoken {token}"}
            return http.get("/books/v3/organizations", headers=headers).status_code

        my_access, their_access = access(mine), access(theirs)
        http.post("/_sandbox/action/expire_tokens", json={"tokens": [theirs]})
        assert answers(my_access) == 200 and answers(their_access) == 401
        their_access = access(theirs)
        http.post("/_sandbox/action/revoke", json={"tokens": [theirs]})
        assert answers(my_access) == 200 and answers(their_access) == 401
        http.post("/_sandbox/action/expire_tokens", json={})  # no tokens named: every one
        assert answers(my_access) == 401


def test_a_surface_that_peeks_at_the_body_classifies_by_it_and_the_app_still_reads_it() -> None:
    """Shopify's reads and writes share one GraphQL endpoint: only the body says which."""
    seen: list[bytes] = []

    async def echo(scope, receive, send):  # the platform reads the whole body itself
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    def by_body(method: str, path: str, query: dict[str, str], body: bytes):
        return ("shop", "write") if body.startswith(b"mutation") else None

    surface = ControlSurface(echo, by_body, peek_body=True)
    with serve(surface) as server, httpx.Client(base_url=server.url) as http:
        http.post("/_sandbox/faults", json={"rules": [{"fault": "error_5xx", "times": 5}]})
        assert http.post("/graphql", content=b"query { shop }").status_code == 200
        assert http.post("/graphql", content=b"mutation { x }").status_code == 503
        assert seen == [b"query { shop }"]  # the faulted write never reached the platform
        http.delete("/_sandbox/faults")
        assert http.post("/graphql", content=b"mutation { y }").status_code == 200
        assert seen[-1] == b"mutation { y }"
        assert http.get("/_sandbox/counters").json()["committed"] == {"shop": {"write": 1}}
