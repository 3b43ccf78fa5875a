"""Property: mapping a mutated platform example either yields a canonical object whose
totals reconcile or a parked change with a reason -- never any other exception.

The examples are the vendors' own (``../shared/refdata``); each is run through the
function its source uses (the core mapping guard around the connector's mapper).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.fuzz.mappers import violation

from .support import bounded, mutated, targets_or_skip


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "api2cart"])
def test_the_unmutated_examples_keep_the_property(platform: str) -> None:
    for target in targets_or_skip(platform):
        assert violation(target, target.doc) is None, target.name


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "api2cart"])
def test_mutated_examples_map_or_park_never_crash(platform: str) -> None:
    targets = targets_or_skip(platform)

    @bounded(60)
    @given(data=st.data())
    def check(data: Any) -> None:
        target = data.draw(st.sampled_from(targets), label="example")
        doc = data.draw(mutated(target.doc, target.depth), label="mutated")
        problem = violation(target, doc)
        assert problem is None, f"{target.platform} {target.name}: {problem}"

    check()
