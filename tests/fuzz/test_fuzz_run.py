"""``python -m bench.fuzz`` itself: a tiny run prints the table and judges it."""

from __future__ import annotations

import pytest

from bench.fuzz.__main__ import main
from bench.fuzz.report import Row, table


def test_a_small_run_prints_one_row_per_area_and_exits_zero_when_clean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--only", "mappers", "expressions", "--payloads", "20", "--expressions", "30"])
    out = capsys.readouterr().out
    for area in ("mappers: shopify", "mappers: woocommerce", "mappers: api2cart", "expressions"):
        assert area in out
    assert "| area " in out and "p95" in out
    assert code == 0, out


def test_a_row_with_any_failure_fails_the_run() -> None:
    clean, leaky = Row("a", cases=3), Row("b", cases=3, leaks=1)
    assert not clean.failed() and leaky.failed()
    assert "| b " in table([clean, leaky])
