"""Registers the TinyShop source and its preset (ledgerbridge finds it by the entry point)."""

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
            factory=TinyShopSource,  # called with a ConnectorContext
            settings_model=TinyShopSettings,  # validates the connection's `settings:`
            secrets_model=TinyShopSecrets,  # validates its `secrets:`
            capabilities=frozenset({SourceCapability.ORDERS, SourceCapability.WEBHOOKS}),
            emulator=create_app,  # `ledgerbridge sandbox tinyshop --port N`
        )
    )


@hookimpl
def register_presets(register: RegisterPreset) -> None:
    register("tinyshop-to-zohobooks", Path(__file__).parent / "presets/tinyshop-to-zohobooks.yaml")
