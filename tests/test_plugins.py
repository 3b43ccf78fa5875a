"""The plugin registry: built-ins and third-party packages load through one entry-point group."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerbridge.canonical import EntityType
from ledgerbridge.contracts import ConnectorContext, ConnectorKind, EmptySettings
from ledgerbridge.errors import PluginError
from ledgerbridge.plugins import PluginWarning, Registry

from .conftest import pip_install

HERE = Path(__file__).parent
BUILTINS = {"shopify", "woocommerce", "api2cart", "zohobooks"}


@pytest.fixture(scope="module")
def installed_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Really install the throwaway plugin packages (with their entry points) into a directory."""
    plugins = HERE / "plugins"
    return pip_install(
        tmp_path_factory.mktemp("site"),
        plugins / "ledgerbridge-example",
        plugins / "ledgerbridge-broken",
    )


@pytest.fixture
def on_path(installed_plugins: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(installed_plugins))
    importlib.invalidate_caches()
    return installed_plugins


def test_builtin_connectors_load_through_entry_points():
    registry = Registry()
    registry.load_entry_points()
    assert set(registry.connectors) >= BUILTINS
    assert registry.get("zohobooks").kind is ConnectorKind.TARGET
    assert {s.name for s in registry.of_kind(ConnectorKind.SOURCE)} >= {
        "shopify",
        "woocommerce",
        "api2cart",
    }
    assert registry.get("shopify").plugin == "shopify" and registry.get("shopify").version


def test_allow_list_restricts_what_loads():
    registry = Registry()
    registry.load_entry_points(allow={"shopify"})
    assert set(registry.connectors) == {"shopify"}
    with pytest.raises(PluginError, match="no target connector named 'zohobooks'.*known: none"):
        registry.get("zohobooks", ConnectorKind.TARGET)


def test_a_third_party_plugin_is_listed_and_usable(on_path: Path):
    with pytest.warns(PluginWarning, match="plugin 'broken'.*failed to load"):
        registry = Registry()
        registry.load_entry_points()
    spec = registry.get("example", ConnectorKind.SOURCE)
    assert spec.version == "1.2.3" and spec.plugin == "example"
    assert set(registry.connectors) >= BUILTINS  # the broken plugin did not stop the others
    assert any("ledgerbridge_dependency_that_does_not_exist" in p for p in registry.problems)

    from ledgerbridge.blocking import blocking

    ctx = ConnectorContext("t/example", "t", spec.settings_model(), EmptySettings())
    with blocking(lambda: spec.build(ctx)) as source:
        pages = list(source.changes(EntityType.ORDER, None))
        assert [len(p.changes) for p in pages] == [2, 1]
        assert [p.checkpoint for p in pages] == ["2", "3"]
        later = list(source.changes(EntityType.ORDER, "2"))
        assert [c.external_id for p in later for c in p.changes] == ["3"]
        assert source.fetch(EntityType.ORDER, "2").number == "EX-2"


def test_connectors_command_lists_the_third_party_plugin(installed_plugins: Path):
    env = {**os.environ, "PYTHONPATH": str(installed_plugins)}
    env.pop("LEDGERBRIDGE_LOAD_PLUGINS", None)
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "connectors"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "example" in out.stdout and "1.2.3" in out.stdout
    assert "plugin 'broken'" in out.stderr and "failed to load" in out.stderr
    env["LEDGERBRIDGE_LOAD_PLUGINS"] = "example,zohobooks"
    out = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "connectors"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "example" in out.stdout and "zohobooks" in out.stdout
    assert "shopify" not in out.stdout and "broken" not in out.stderr


def test_a_plugin_that_fails_while_registering_is_a_warning():
    class Bad:
        from ledgerbridge import hookimpl

        @staticmethod
        @hookimpl
        def register_sources(register):
            raise RuntimeError("boom")

    registry = Registry()
    with pytest.warns(PluginWarning, match="plugin 'bad' failed while registering connectors"):
        registry.register_module(Bad, "bad")
    assert "bad" not in registry.connectors


def test_duplicate_connector_names_keep_the_first_and_warn():
    from ledgerbridge import hookimpl
    from ledgerbridge.contracts import ConnectorSpec

    class Twin:
        @staticmethod
        @hookimpl
        def register_targets(register):
            register(ConnectorSpec(name="zohobooks", kind=ConnectorKind.TARGET, title="Impostor"))

    registry = Registry()
    registry.load_entry_points(allow={"zohobooks"})
    with pytest.warns(PluginWarning, match="already registered by 'zohobooks'"):
        registry.register_module(Twin, "twin")
    assert registry.get("zohobooks").title == "Zoho Books"


def test_shell_connectors_are_listed_but_refuse_to_build():
    from ledgerbridge import hookimpl
    from ledgerbridge.contracts import ConnectorSpec

    class Shell:
        @staticmethod
        @hookimpl
        def register_sources(register):
            register(
                ConnectorSpec(
                    name="magento", kind=ConnectorKind.SOURCE, title="Magento", status="shell"
                )
            )

    registry = Registry()
    registry.register_module(Shell, "magento-plugin")
    spec = registry.get("magento")
    assert spec.status == "shell"
    with pytest.raises(PluginError, match="is a shell"):
        spec.build(ConnectorContext("t/m", "t", EmptySettings(), EmptySettings()))


def test_every_builtin_connector_has_landed():
    registry = Registry()
    registry.load_entry_points(allow=BUILTINS)
    assert {name: registry.get(name).status for name in BUILTINS} == dict.fromkeys(
        BUILTINS, "ready"
    )
