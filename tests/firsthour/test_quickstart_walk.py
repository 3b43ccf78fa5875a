"""docs/quickstart-sandbox.md, walked as a newcomer would: the real CLI in subprocesses, the
sandboxes as ``ledgerbridge sandbox`` processes on loopback, nothing read from source code.

Sandboxes print what the config needs -> keygen, migrate -> connect Zoho in one attempt
(grant code pasted, organisation picked) -> ``mappings init`` from the organisation and
the store -> a dry run explains every record that would park, each with the key to set ->
``check`` -> ``--against`` flags the missing custom fields -> they are created ->
``--against`` passes -> a dry run parks nothing -> sync posts what it said -> nothing parked.  The books are then read
from the Zoho emulator itself: one invoice per order, each with the custom field.
"""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.conftest import REPO

pytest.importorskip("ledgerbridge_zohobooks.emulator")
pytest.importorskip("ledgerbridge_woocommerce.emulator")

ORDERS = 18  # the WooCommerce sandbox's scenarios, the plugin status among them
MERCHANT = "merchant@example.com"  # printed by the Zoho sandbox


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def sandbox(name: str, *args: str) -> Iterator[tuple[str, list[str]]]:
    """``ledgerbridge sandbox NAME`` as a process; yields its URL and its start-up text."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledgerbridge", "sandbox", name, "--port", str(_port()), *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        printed: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [printed.put(ln.rstrip("\n")) for ln in proc.stdout], daemon=True
        ).start()

        def line() -> str:
            try:
                return printed.get(timeout=30)
            except queue.Empty:
                raise AssertionError(f"sandbox {name} printed no start-up text") from None

        lines = [line()]
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", lines[0])
        assert match, lines
        url = match.group(1)
        while not lines[-1].startswith("- "):  # the config block, then the notes
            lines.append(line())
        deadline = time.monotonic() + 20
        while True:  # printed before the server binds: wait for it
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"sandbox {name} did not start"
                time.sleep(0.1)
        yield url, lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def block(lines: list[str], key: str) -> dict[str, object]:
    """The ``settings:``/``secrets:`` flow mapping a sandbox printed (JSON-compatible)."""
    line = next(ln for ln in lines if ln.strip().startswith(f"{key}:"))
    text = line.split(":", 1)[1].strip()
    return json.loads(re.sub(r"([{,]\s*)([a-z_]+):", r'\1"\2":', text))


def cli(
    *args: str, cwd: Path, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledgerbridge", *args],
        cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def write_config(path: Path, shop: dict, books: dict, pipeline: bool = False) -> None:
    def flow(values: object) -> str:
        return json.dumps(values)

    text = (
        "version: 1\n"
        f'database: "sqlite:///{path.parent / "ledgerbridge.db"}"\n'
        "tenants:\n  - id: acme\n    connections:\n"
        "      shop:\n        platform: woocommerce\n"
        f"        settings: {flow(shop['settings'])}\n"
        f"        secrets: {flow(shop['secrets'])}\n"
        "      books:\n        platform: zohobooks\n"
        f"        settings: {flow(books['settings'])}\n"
        f"        secrets: {flow(books['secrets'])}\n"
    )
    if pipeline:
        text += (
            "    pipelines:\n      - id: acme-orders\n        source: shop\n"
            "        target: books\n        mapping: acme-mapping.yaml\n"
        )
    path.write_text(text, encoding="utf-8")


def zoho_books(url: str, org: str, refresh_token: str, client: dict) -> list[dict]:
    """Every invoice of the organisation, read from the Zoho emulator's API."""
    token = httpx.post(
        f"{url}/oauth/v2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, **client},
    ).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    listed = httpx.get(
        f"{url}/books/v3/invoices", params={"organization_id": org}, headers=headers
    ).json()["invoices"]
    return [
        httpx.get(
            f"{url}/books/v3/invoices/{row['invoice_id']}",
            params={"organization_id": org},
            headers=headers,
        ).json()["invoice"]
        for row in listed
    ]


def test_the_sandbox_quickstart_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERBRIDGE_")}
    env["COLUMNS"] = "200"
    with (
        sandbox("zohobooks") as (zoho_url, zoho_lines),
        sandbox("woocommerce", "--orders", str(ORDERS)) as (_woo_url, woo_lines),
    ):
        # 1. the sandboxes say what the config needs
        books = {"settings": block(zoho_lines, "settings"), "secrets": block(zoho_lines, "secrets")}
        shop = {"settings": block(woo_lines, "settings"), "secrets": block(woo_lines, "secrets")}
        assert books["settings"]["api_url"] == zoho_url
        books["settings"].update(requests_per_minute=100, burst=100)  # as the quick start says
        org = str(books["settings"]["organization_id"])
        assert any(MERCHANT in ln for ln in zoho_lines)
        config = tmp_path / "ledgerbridge.yaml"
        # the pipeline names the mapping `mappings init` writes below
        write_config(config, shop, books, pipeline=True)

        # 2. the store's key and schema
        key = cli("keygen", cwd=tmp_path, env=env)
        assert key.returncode == 0, key.stderr
        (tmp_path / "secret.key").write_text(key.stdout.strip())
        env["LEDGERBRIDGE_SECRET_KEY_FILE"] = str(tmp_path / "secret.key")
        migrated = cli("migrate", "-c", str(config), cwd=tmp_path, env=env)
        assert migrated.returncode == 0, migrated.stderr
        assert (tmp_path / "ledgerbridge.db").exists()

        # 3. connect Zoho: one grant code, the organisation picked at the prompt
        connect_args = [
            "connect", "zohobooks", "-c", str(config), "--tenant", "acme", "--name", "books",
            "--client-id", str(books["secrets"]["client_id"]),
            "--client-secret", str(books["secrets"]["client_secret"]),
            "--accounts-url", zoho_url, "--api-url", zoho_url,
        ]  # fmt: skip
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledgerbridge", *connect_args],
            cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdin is not None
        consent = ""
        while "/oauth/v2/auth?" not in consent:
            consent = proc.stdout.readline()
            assert consent, "connect printed no consent URL"
        approved = httpx.get(consent.strip() + f"&user={MERCHANT}", follow_redirects=False)
        code = parse_qs(urlparse(approved.headers["location"]).query)["code"][0]
        rest, err = proc.communicate(f"{code}\n1\n", timeout=60)
        assert proc.returncode == 0, rest + err
        assert f"1. {org}" in rest and f"organisation {org}" in rest

        # 4. a starter mapping from the organisation and the store
        init = cli("mappings", "init", "acme-mapping.yaml", "--against", "books",
                   "--source", "shop", "-c", str(config), cwd=tmp_path, env=env)  # fmt: skip
        assert init.returncode == 0, init.stdout + init.stderr
        todos = " ".join(init.stdout.split())
        assert "cf_source_order_id on invoices" in todos
        assert "status_map: {awaiting-shipment: open}" in todos
        mapping = (tmp_path / "acme-mapping.yaml").read_text()
        assert 'tax_id: "' in mapping and "account_id:" in mapping

        # 4b. a dry run before the TODOs are done: every park explained, with what to set
        dry_args = ["sync", "acme-orders", "--dry-run", "-c", str(config)]
        early = cli(*dry_args, cwd=tmp_path, env=env)
        assert early.returncode == 3, early.stdout + early.stderr  # records would park
        shown = " ".join(early.stdout.split())
        assert "would park" in shown and "→ add status_map: {awaiting-shipment: open}" in shown
        report = json.loads(cli(*dry_args, "--json", cwd=tmp_path, env=env).stdout)
        [parks] = [p["parks"] for p in report["pipelines"]]
        assert parks and all(p["advice"] for p in parks), parks  # every park explained
        advice = {p["advice"] for p in parks}
        assert any("settings.custom_fields listing cf_source_" in a for a in advice), advice
        assert any("status_map: {awaiting-shipment: open}" in a for a in advice), advice

        # 5. the TODOs: the plugin status gets a meaning
        shop["settings"]["status_map"] = {"awaiting-shipment": "open"}
        write_config(config, shop, books, pipeline=True)
        checked = cli("check", "-c", str(config), cwd=tmp_path, env=env)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        # 6. --against flags the missing custom fields before any write
        against = ["mappings", "validate", "acme-mapping.yaml", "--against", "books",
                   "-c", str(config)]  # fmt: skip
        flagged = cli(*against, cwd=tmp_path, env=env)
        assert flagged.returncode == 1
        assert "custom field cf_source_customer_id on contacts" in " ".join(flagged.stderr.split())
        for module, name in (
            ("contacts", "cf_source_customer_id"),
            ("invoices", "cf_source_order_id"),
            ("creditnotes", "cf_source_order_id"),
        ):
            made = httpx.post(
                f"{zoho_url}/_emulator/customfields",
                json={"organization_id": org, "module": module, "api_name": name},
            )
            assert made.status_code == 201, made.text
        books["settings"]["custom_fields"] = {
            "contacts": ["cf_source_customer_id"],
            "invoices": ["cf_source_order_id"],
            "creditnotes": ["cf_source_order_id"],
        }
        write_config(config, shop, books, pipeline=True)
        passed = cli(*against, cwd=tmp_path, env=env)
        assert passed.returncode == 0, passed.stdout + passed.stderr

        # 7. a dry run, then the sync
        dry = cli(*dry_args, "--json", cwd=tmp_path, env=env)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        [would] = json.loads(dry.stdout)["pipelines"]
        assert would["would_park"] == 0 and would["would_post"]["invoice"] > 0
        from ledgerbridge.store import SecretBox, Store

        store = Store(
            f"sqlite:///{tmp_path / 'ledgerbridge.db'}",
            secrets=SecretBox([(tmp_path / "secret.key").read_text().strip()]),
        )
        try:
            refresh = str(store.connection_secrets("acme/books")["refresh_token"])
        finally:
            store.close()
        client = {k: str(v) for k, v in books["secrets"].items()}
        seeded = zoho_books(zoho_url, org, refresh, client)  # the sandbox's own two
        assert {i["reference_number"] for i in seeded} == {"SEED-1", "SEED-2"}
        synced = cli("sync", "acme-orders", "-c", str(config), cwd=tmp_path, env=env)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        failures = cli("failures", "-c", str(config), cwd=tmp_path, env=env)
        assert "no failures" in failures.stdout, failures.stdout

        # 8. the merchant's books: an invoice per posted order, each keyed to its order
        invoices = [i for i in zoho_books(zoho_url, org, refresh, client) if i not in seeded]
        assert len(invoices) >= ORDERS // 2
        assert len(invoices) == would["would_post"]["invoice"]  # as the dry run said
        order_ids = {i["custom_field_hash"].get("cf_source_order_id") for i in invoices}
        assert None not in order_ids and len(order_ids) == len(invoices)
        number = sorted(order_ids)[0]  # WooCommerce shows an order's number as its id
        audit = cli("audit", number, "-c", str(config), cwd=tmp_path, env=env)
        assert audit.returncode == 0 and "create_document" in audit.stdout, audit.stderr
        assert {i["reference_number"] for i in seeded} == {"SEED-1", "SEED-2"}
