"""``ledgerbridge check`` validates a pipeline's currency policies in its mapping file, with
the mapping's own file:line:column."""

from __future__ import annotations

from pathlib import Path

from tests.mapping.test_config_check import CONFIG
from tests.test_cli import run


def test_check_names_a_wrong_currency_policy_where_it_is(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(
        "extends: shopify-to-zohobooks\n"
        "lookups:\n"
        "  currencies:\n"
        "    book_in: customer\n"
        "    refund_rate: original\n"
        "    fallback_rate: zoho\n"
        "    exchange_rates: {EUR: -1.08}\n"
    )
    (tmp_path / "ledgerbridge.yaml").write_text(CONFIG.replace("MAPPING", "acme.yaml"))
    out = run("check", "-c", "ledgerbridge.yaml", cwd=tmp_path)
    assert out.returncode == 6, out.stderr  # ExitCode.CONFIG
    assert "acme.yaml:4:14: lookups.currencies.book_in:" in out.stderr
    assert "'shop' or 'presentment'" in out.stderr
    assert "acme.yaml:6:20: lookups.currencies.fallback_rate:" in out.stderr
    assert "exchange_rates.EUR: a rate must be positive" in out.stderr

    (tmp_path / "acme.yaml").write_text(
        "extends: shopify-to-zohobooks\n"
        "lookups:\n"
        "  currencies:\n"
        "    book_in: presentment\n"
        "    refund_rate: refund_day\n"
        "    fallback_rate: target\n"
    )
    out = run("check", "-c", "ledgerbridge.yaml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
