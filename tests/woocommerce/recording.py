"""Record the WooCommerce cassettes against the emulator: ``python -m tests.woocommerce.recording``.

The recording reads a freshly seeded store through the connector (Basic auth
over https, in-process), with the keys scrubbed before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import ChangePage
from ledgerbridge.testing.cassettes import scrubbing_vcr
from ledgerbridge_woocommerce.emulator import (
    DEFAULT_KEY,
    DEFAULT_SECRET,
    EmulatorConfig,
    create_app,
    seed,
)

from .conftest import make_source

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "woocommerce"
CASSETTE = "orders_full_read.yaml"
WEBHOOK_SECRET = "whsec-recording"
SECRETS = {
    DEFAULT_KEY: "<CONSUMER_KEY>",
    DEFAULT_SECRET: "<CONSUMER_SECRET>",
    WEBHOOK_SECRET: "<WEBHOOK_SECRET>",
}


def read_orders(transport: httpx.AsyncBaseTransport) -> list[ChangePage]:
    source = make_source(transport=transport, webhook_secret=WEBHOOK_SECRET, auth="basic")

    async def main() -> list[ChangePage]:
        try:
            return [p async for p in source.changes(EntityType.ORDER, None, page_size=8)]
        finally:
            await source.aclose()

    return anyio.run(main)


def record(directory: Path) -> tuple[Path, list[ChangePage]]:
    app = create_app(seed(orders=12), EmulatorConfig())
    (directory / CASSETTE).unlink(missing_ok=True)  # a fresh recording, not an append
    vcr = scrubbing_vcr(directory, SECRETS, record_mode="all")
    with vcr.use_cassette(CASSETTE):
        pages = read_orders(httpx.ASGITransport(app))
    return directory / CASSETTE, pages


if __name__ == "__main__":
    CASSETTES.mkdir(parents=True, exist_ok=True)
    path, pages = record(CASSETTES)
    print(f"recorded {sum(len(p.changes) for p in pages)} orders into {path}")
