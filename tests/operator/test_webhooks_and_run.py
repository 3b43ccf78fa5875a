"""`serve` receives the WooCommerce emulator's signed webhook into the inbox, `status`
shows it waiting, and `run` drains it and stops cleanly on SIGTERM; a forged delivery
is refused (401) and stored nowhere; unknown connection 404; oversize body 413."""

from __future__ import annotations

import signal
import socket
import time
from typing import Any

import anyio
import httpx

from demo.world import WOO_HOOK_SECRET
from ledgerbridge.exitcodes import ExitCode
from ledgerbridge.store import Store
from ledgerbridge_woocommerce.emulator.webhooks import Webhook

from .conftest import Operator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def pending(operator: Operator) -> int:
    store = Store(operator.world.database_url)
    try:
        return len(store.pending_inbox(limit=1000))
    finally:
        store.close()


def up(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_signed_webhook_is_stored_shown_and_synced_by_run_forged_one_is_refused(
    operator: Operator,
) -> None:
    world = operator.world
    operator.cli("sync", "west-orders", code=ExitCode.PARKED)
    invoices = world.org("west").invoices
    oid, invoice = next(
        (int(i["custom_field_hash"]["cf_source_order_id"]), i)
        for i in invoices.values()
        if i["status"] not in ("paid", "void")
    )
    port = free_port()
    receiver = f"http://127.0.0.1:{port}"
    server = operator.popen("serve", "--port", str(port))
    try:
        wait_until(lambda: up(receiver))
        emulator = world.woo.emulator
        emulator.sender.webhooks[1] = Webhook(
            1, "ledgerbridge", "order.updated", f"{receiver}/webhooks/west/shop", WOO_HOOK_SECRET
        )
        # the merchant edits the order; the shop delivers a signed order.updated webhook
        anyio.run(lambda: emulator.touch_order(oid, customer_note="Leave at the back door"))
        assert emulator.sender.sent == [("order.updated", 200)]
        assert pending(operator) == 1
        status = operator.cli("status").stdout
        assert "1 waiting" in status, status

        delivery = emulator.sender.delivery(emulator.sender.webhooks[1], {"id": oid})
        forged = dict(delivery.headers, **{"X-WC-Webhook-Signature": "Zm9yZ2Vk"})
        url = f"{receiver}/webhooks/west/shop"
        assert httpx.post(url, content=delivery.body, headers=forged).status_code == 401
        assert pending(operator) == 1, "a forged delivery is stored nowhere"
        unknown = httpx.post(f"{receiver}/webhooks/west/nope", content=b"{}")
        assert unknown.status_code == 404
        big = httpx.post(url, content=b"x" * (2 * 1024 * 1024 + 1), headers=delivery.headers)
        assert big.status_code == 413
        assert pending(operator) == 1
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert invoice["notes"] != "Leave at the back door"
    runner = operator.popen("run", "--inbox-every", "0.5")
    try:
        wait_until(lambda: pending(operator) == 0 and invoice["notes"] == "Leave at the back door")
    finally:
        runner.send_signal(signal.SIGTERM)
        out, err = runner.communicate(timeout=30)
    assert runner.returncode == 0, (out, err)
    assert "SIGTERM: finishing the record in flight" in err
    assert out.rstrip().endswith("stopped"), out
    assert "0 waiting" in operator.cli("status").stdout
    # (the west shop is booked twice, order by order and as daily summaries: name the pipeline)
    audit = operator.cli("audit", str(oid), "--pipeline", "west-orders").stdout
    assert "update_document" in audit, audit
