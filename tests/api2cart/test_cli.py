"""``ledgerbridge api2cart subscribe`` against the emulator on a loopback port."""

from __future__ import annotations

import textwrap
from pathlib import Path

import typer
from typer.testing import CliRunner

from ledgerbridge.sandbox import serve
from ledgerbridge_api2cart.cli import register
from ledgerbridge_api2cart.emulator import create_app, create_state

API_KEY, STORE_KEY, TOKEN = "cli-api-key", "cli-store-key", "cli-hook-token-91"


def _config(tmp_path: Path, url: str, token: str | None = TOKEN) -> Path:
    secret = f', webhook_token: "{token}"' if token else ""
    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            database: sqlite:///{tmp_path / "state.db"}
            tenants:
              - id: acme
                connections:
                  shop:
                    platform: api2cart
                    settings: {{base_url: "{url}/v1.1", cart: Shopify}}
                    secrets: {{api_key: "{API_KEY}", store_key: "{STORE_KEY}"{secret}}}
            """
        )
    )
    # Only its owner may read it, as a config holding secrets should be: otherwise each run
    # logs the plain-text-secrets warning, with a timestamp once another CLI test in the same
    # process has set logging up, and the two runs' outputs below differ by that time.
    path.chmod(0o600)
    return path


def _cli() -> typer.Typer:
    cli = typer.Typer()
    cli.command("noop")(lambda: None)
    register(cli)
    return cli


def test_subscribe_registers_each_event_once_and_hides_the_token(tmp_path: Path):
    state = create_state(api_key=API_KEY, stores={STORE_KEY: ("Shopify", "USD")}, orders=3)
    args = [
        "api2cart",
        "subscribe",
        "--callback-base",
        "https://hooks.acme.example/",
        "--tenant",
        "acme",
        "--connection",
        "shop",
    ]
    with serve(create_app(state)) as server:
        config = _config(tmp_path, server.url)
        first = CliRunner().invoke(_cli(), [*args, "-c", str(config)])
        second = CliRunner().invoke(_cli(), [*args, "-c", str(config)])
    assert first.exit_code == 0, first.output
    assert first.output == second.output  # idempotent: the same ids
    assert TOKEN not in first.output and "<webhook_token>" in first.output
    hooks = state.stores[STORE_KEY].webhooks.values()
    assert sorted(f"{h['entity']}.{h['action']}" for h in hooks) == [
        "order.add",
        "order.delete",
        "order.update",
    ]
    assert {h["callback"] for h in hooks} == {
        f"https://hooks.acme.example/webhooks/acme/shop/{TOKEN}"
    }
    assert len(state.calls("webhook.create")) == 3


def test_subscribe_refuses_without_a_webhook_token(tmp_path: Path):
    config = _config(tmp_path, "http://127.0.0.1:9", token=None)
    result = CliRunner().invoke(
        _cli(),
        [
            "api2cart",
            "subscribe",
            "--callback-base",
            "https://h",
            "--tenant",
            "acme",
            "-c",
            str(config),
        ],
    )
    # A missing secret is the config's to fix: exit 6, as for every command (exitcodes.py).
    assert result.exit_code == 6 and "secrets.webhook_token" in result.output
