"""ledgerbridge.plugin_kit: hook implementations made from declarations register like written ones."""

from __future__ import annotations

import sys
import types

import pytest

from ledgerbridge.contracts import ConnectorKind, ConnectorSpec
from ledgerbridge.plugin_kit import commands, lazy, sandbox_app, sources, targets
from ledgerbridge.plugins import Registry


def test_made_hooks_register_their_specs_and_hand_over_the_cli(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handed: list[object] = []
    cli_module = types.ModuleType("kit_cli")
    cli_module.register = handed.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kit_cli", cli_module)
    source = ConnectorSpec(name="kit-src", kind=ConnectorKind.SOURCE, title="Kit source")
    target = ConnectorSpec(name="kit-tgt", kind=ConnectorKind.TARGET, title="Kit target")
    plugin = types.ModuleType("kit_plugin")
    plugin.register_sources = sources(source)  # type: ignore[attr-defined]
    plugin.register_targets = targets(target)  # type: ignore[attr-defined]
    plugin.register_commands = commands("kit_cli:register")  # type: ignore[attr-defined]
    registry = Registry()
    registry.register_module(plugin, "kit")
    assert registry.get("kit-src", ConnectorKind.SOURCE).title == "Kit source"
    assert registry.get("kit-tgt", ConnectorKind.TARGET).plugin == "kit"
    registry.pm.hook.register_commands(cli="the root app")
    assert handed == ["the root app"]
    with pytest.raises(ValueError, match="kit-src: not a target connector"):
        targets(source)


def test_lazy_imports_on_first_call_and_sandbox_app_seeds_only_when_asked() -> None:
    assert lazy("decimal:Decimal")("1.10") == lazy("decimal:Decimal")("1.10")
    with pytest.raises(ValueError, match="package.module:name"):
        lazy("decimal.Decimal")
    build = sandbox_app("builtins:list", seed="builtins:dict")
    assert build() == [] and build(orders=2) == ["orders"]  # list(dict(orders=2))
    assert sandbox_app("builtins:list")(orders=2) == []  # no seed: orders ignored
