"""``ledgerbridge check`` also checks each pipeline's mapping: its content (with the
mapping file's own positions) and that it is written for the pipeline's platforms."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import run

CONFIG = """\
version: 1
tenants:
  - id: acme
    connections:
      shop: {platform: shopify, settings: {shop: acme}, secrets: {access_token: "x"}}
      books: {platform: zohobooks, settings: {organization_id: "8754310000010306009"}}
    pipelines:
      - id: acme-orders
        source: shop
        target: books
        mapping: MAPPING
"""


def test_check_reports_problems_inside_the_mapping_and_a_wrong_pair(tmp_path: Path):
    (tmp_path / "acme.yaml").write_text("extends: shopify-to-zohobooks\nshiping: {as: line}\n")
    (tmp_path / "ledgerbridge.yaml").write_text(CONFIG.replace("MAPPING", "acme.yaml"))
    out = run("check", "-c", "ledgerbridge.yaml", cwd=tmp_path)
    assert out.returncode == 6  # ExitCode.CONFIG
    assert "acme.yaml:2:1: shiping: unknown key 'shiping' (did you mean 'shipping'?)" in out.stderr

    (tmp_path / "ledgerbridge.yaml").write_text(
        CONFIG.replace("MAPPING", "woocommerce-to-zohobooks")
    )
    out = run("check", "-c", "ledgerbridge.yaml", cwd=tmp_path)
    assert out.returncode == 6  # ExitCode.CONFIG
    assert (
        "ledgerbridge.yaml:11:18: mapping 'woocommerce-to-zohobooks' is for source 'woocommerce', "
        "but source 'shop' is a shopify connection"
    ) in out.stderr

    (tmp_path / "ledgerbridge.yaml").write_text(CONFIG.replace("MAPPING", "shopify-to-zohobooks"))
    out = run("check", "-c", "ledgerbridge.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
