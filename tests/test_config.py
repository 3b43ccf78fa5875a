"""ledgerbridge.yaml: every mistake is reported with file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerbridge.config import load_config
from ledgerbridge.errors import ConfigError

GOOD = """\
version: 1
tenants:
  - id: acme
    name: Acme
    connections:
      shop:
        platform: shopify
        settings:
          shop: acme-store
        secrets:
          access_token: ${TEST_SHOP_TOKEN}
      books:
        platform: zohobooks
        settings:
          data_center: eu
          organization_id: "8754310000010306009"
    pipelines:
      - id: acme-orders
        source: shop
        target: books
        mapping: shopify-to-zohobooks
        interval: 10m
        rounding_tolerance: 0.02
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return [f"{loc}: {msg}" for loc, msg in err.value.problems]


def test_a_good_config_loads_with_secrets_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "shpat_123")
    loaded = load_config(write(tmp_path, GOOD))
    tenant = loaded.tenant("acme")
    assert tenant.connections["shop"].secrets["access_token"].get_secret_value() == "shpat_123"
    assert "shpat_123" not in repr(loaded.config)  # secrets never print
    pipe = tenant.pipelines[0]
    assert pipe.interval.total_seconds() == 600 and str(pipe.rounding_tolerance) == "0.02"
    assert loaded.mapping_path(pipe).name == "shopify-to-zohobooks.yaml"
    assert tenant.connections["books"].settings["organization_id"] == "8754310000010306009"


def test_a_missing_environment_variable_names_it_and_its_line(tmp_path, monkeypatch):
    monkeypatch.delenv("TEST_SHOP_TOKEN", raising=False)
    [p] = problems(tmp_path, GOOD)
    assert p.startswith(f"{tmp_path / 'ledgerbridge.yaml'}:11:")
    assert "TEST_SHOP_TOKEN is not set" in p


def test_a_typo_in_a_key_points_at_it_with_a_suggestion(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    [p] = problems(tmp_path, GOOD.replace("        interval: 10m", "        intervall: 10m"))
    assert ":22:9: tenants.0.pipelines.0.intervall: unknown key 'intervall'" in p
    assert "did you mean 'interval'" in p


def test_a_wrong_value_reports_what_was_expected(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    [p] = problems(tmp_path, GOOD.replace("interval: 10m", "interval: soon"))
    assert ":22:19:" in p and "expected a duration such as 30s, 5m" in p


def test_connector_settings_are_checked_by_the_connectors_own_model(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    [p] = problems(tmp_path, GOOD.replace("data_center: eu", "data_center: mars"))
    assert ":15:24:" in p and "tenants.0.connections.books.settings.data_center" in p
    assert "'com'" in p  # lists the allowed data centres


def test_cross_references_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    text = (
        GOOD.replace("target: books", "target: shop")
        .replace("source: shop", "source: nowhere")
        .replace("mapping: shopify-to-zohobooks", "mapping: missing.yaml")
    )
    found = problems(tmp_path, text)
    assert any(
        ":19:" in p and "source 'nowhere' is not a connection of tenant 'acme'" in p for p in found
    )
    assert any(":20:" in p and "which is a source connector, not a target" in p for p in found)
    assert any(":21:" in p and "mapping file 'missing.yaml' not found" in p for p in found)


def test_unknown_platform_lists_installed_connectors(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    found = problems(tmp_path, GOOD.replace("platform: shopify", "platform: magento"))
    assert any(
        ":7:" in p and "platform 'magento' is not an installed connector" in p and "shopify" in p
        for p in found
    )


def test_yaml_syntax_errors_have_positions(tmp_path):
    [p] = problems(tmp_path, "version: 1\ntenants:\n  - id: [unclosed\n")
    assert "invalid YAML" in p and "ledgerbridge.yaml:4:" in p


def test_duplicate_keys_are_errors(tmp_path):
    [p] = problems(tmp_path, "version: 1\nversion: 1\n")
    assert "invalid YAML" in p and ":2:1" in p


def test_all_problems_are_reported_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_SHOP_TOKEN", "x")
    text = GOOD.replace("interval: 10m", "interval: soon").replace("name: Acme", "nmae: Acme")
    assert len(problems(tmp_path, text)) == 2


def test_empty_file_says_what_to_do(tmp_path):
    [p] = problems(tmp_path, "")
    assert "ledgerbridge init" in p
