"""The chaos harness's catalog scenario in reduced form, inside the normal suite.

One catalog book per storefront (Shopify, WooCommerce, API2Cart, each with its Zoho Books
organisation; prices and stock owned by Books, names and status by the shop), ~4 products
per shop, two rounds (the first alignment, then the merchant's edits made right after a
kill), 2 kills per book on committed writes and faults on every write kind.  The real
``ledgerbridge sync`` runs in subprocesses against the emulators in their own processes;
the verdict comes from the platforms' records and write journals
(``bench/chaos/catalog_verify.py``): no lost, stale, wrong-side or repeated update, no
conflict, no park the harness caused, and a clean re-run that writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos.__main__ import CATALOG_CI, STOREFRONTS
from bench.chaos.catalog_drive import CatalogBudget, run_catalog

pytestmark = pytest.mark.slow


def test_catalog_chaos_loses_and_repeats_no_update(tmp_path: Path) -> None:
    budget = CatalogBudget(
        kills=CATALOG_CI["kills"],
        rounds=CATALOG_CI["rounds"],
        faults_per_rule=CATALOG_CI["faults_per_rule"],
    )
    rows = run_catalog(
        STOREFRONTS, root=tmp_path, products=CATALOG_CI["products"], budget=budget, seed=7,
        jobs=3,
    )  # fmt: skip
    assert [r.source for r in rows] == STOREFRONTS
    report = [f"{r.source}: {line}" for r in rows for line in [*r.problems, *r.verdict.details]]
    assert all(r.ok for r in rows), "\n".join(report)
    for r in rows:  # the chaos happened: kills landed on committed writes, faults fired
        assert r.kills - r.timer_kills >= budget.kills and r.faults > 0 and r.edits > 0
        assert r.clean_writes == 0 and r.verdict.writes > 0
