"""Registers the TinyShop source with ledgerbridge (found through the entry point)."""

from __future__ import annotations

from pathlib import Path

from ledgerbridge import hookimpl
from ledgerbridge.contracts import ConnectorKind, ConnectorSpec, SourceCapability
from ledgerbridge.hookspecs import Register, RegisterPreset

from .emulator import create_app
from .source import TinyShopSecrets, TinyShopSettings, TinyShopSource


@hookimpl
def register_sources(register: Register) -> None:
    register(
        ConnectorSpec(
            name="tinyshop",
            kind=ConnectorKind.SOURCE,
            title="TinyShop",
            factory=TinyShopSource,
            settings_model=TinyShopSettings,
            secrets_model=TinyShopSecrets,
            capabilities=frozenset({SourceCapability.ORDERS, SourceCapability.WEBHOOKS}),
            emulator=create_app,
            description="Example connector from docs/writing-a-connector.md.",
        )
    )


@hookimpl
def register_presets(register: RegisterPreset) -> None:
    # `mapping: tinyshop-to-zohobooks` in a pipeline, or `extends:` in a tenant's mapping.
    presets = Path(__file__).parent / "presets"
    register("tinyshop-to-zohobooks", presets / "tinyshop-to-zohobooks.yaml")
