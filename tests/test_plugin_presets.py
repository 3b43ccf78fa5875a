"""A plugin ships its mapping presets (the ``register_presets`` hook), and pipelines and
``extends:`` name them like the presets shipped with ledgerbridge."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerbridge import hookimpl
from ledgerbridge.config.loader import resolve_mapping
from ledgerbridge.errors import ConfigError
from ledgerbridge.mapping.loader import load_mapping
from ledgerbridge.plugins import BUILTIN_PRESETS_DIR, PluginWarning, Registry

PRESET = """\
version: 1
source: shopify
target: zohobooks
description: a plugin's preset
posting_policy: sales_receipt
"""


def _plugin(name: str, path: Path) -> type:
    class Plugin:
        @staticmethod
        @hookimpl
        def register_presets(register):
            register(name, path)

    return Plugin


@pytest.fixture
def preset_file(tmp_path: Path) -> Path:
    path = tmp_path / "pkg" / "presets" / "acme-to-zohobooks.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(PRESET)
    return path


def test_a_registered_preset_resolves_by_name_for_mapping_and_extends(
    tmp_path: Path, preset_file: Path, monkeypatch: pytest.MonkeyPatch
):
    registry = Registry()
    registry.load_entry_points(allow={"shopify", "zohobooks"})
    registry.register_module(_plugin("acme-to-zohobooks", preset_file), "acme")
    assert registry.preset("acme-to-zohobooks") == preset_file.resolve()
    assert registry.preset("acme-to-zohobooks.yaml") == preset_file.resolve()
    assert registry.preset_names()["acme-to-zohobooks"] == "acme"
    assert registry.preset_names()["shopify-to-zohobooks"] == "ledgerbridge"
    config_dir = tmp_path / "project"
    config_dir.mkdir()
    assert resolve_mapping("acme-to-zohobooks", config_dir, registry) == preset_file.resolve()

    # extends: goes through the process registry; point it at ours.
    monkeypatch.setattr("ledgerbridge.plugins._registry", registry)
    tenant = config_dir / "mapping.yaml"
    tenant.write_text(
        "extends: acme-to-zohobooks\nversion: 1\nsource: shopify\ntarget: zohobooks\n"
    )
    assert load_mapping(tenant).mapping.posting_policy == "sales_receipt"


def test_an_unknown_preset_names_the_known_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    registry = Registry()
    monkeypatch.setattr("ledgerbridge.plugins._registry", registry)
    tenant = tmp_path / "mapping.yaml"
    tenant.write_text("extends: nobody-ships-this\nversion: 1\n")
    with pytest.raises(ConfigError, match="ledgerbridge mappings presets"):
        load_mapping(tenant)


def test_a_plugin_cannot_shadow_a_builtin_preset_or_another_plugins(preset_file: Path):
    registry = Registry()
    with pytest.warns(PluginWarning, match="ledgerbridge ships one"):
        registry.register_module(_plugin("shopify-to-zohobooks", preset_file), "sneaky")
    assert (
        registry.preset("shopify-to-zohobooks") == BUILTIN_PRESETS_DIR / "shopify-to-zohobooks.yaml"
    )
    registry.register_module(_plugin("acme-to-zohobooks", preset_file), "first")
    with pytest.warns(PluginWarning, match="already registered by 'first'"):
        registry.register_module(_plugin("acme-to-zohobooks", preset_file), "second")
    assert registry.presets["acme-to-zohobooks"][1] == "first"


@pytest.mark.parametrize("name", ["../escape", "x.yaml", ""])
def test_a_malformed_preset_registration_is_a_warning_not_a_crash(preset_file: Path, name: str):
    registry = Registry()
    with pytest.warns(PluginWarning, match="failed while registering"):
        registry.register_module(_plugin(name, preset_file), "bad")
    assert registry.presets == {}


def test_a_preset_that_is_not_a_file_is_refused(tmp_path: Path):
    registry = Registry()
    with pytest.warns(PluginWarning, match="is not a file"):
        registry.register_module(_plugin("ghost-to-zohobooks", tmp_path / "missing.yaml"), "g")


def test_a_path_beside_the_config_wins_over_a_preset(tmp_path: Path, preset_file: Path):
    registry = Registry()
    registry.register_module(_plugin("acme-to-zohobooks", preset_file), "acme")
    local = tmp_path / "acme-to-zohobooks"
    local.write_text(PRESET)
    assert resolve_mapping("acme-to-zohobooks", tmp_path, registry) == local.resolve()
