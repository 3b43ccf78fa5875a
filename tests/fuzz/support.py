"""Hypothesis settings for the bounded property tests (``make fuzz`` runs the long version).

Small example counts keep the suite fast; ``CI=true`` derandomizes so a CI run is
reproducible; ``LEDGERBRIDGE_FUZZ_EXAMPLES`` raises the count locally.  No example
database is written (``database=None``): a failure prints its minimal example.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bench.fuzz import mutations


def bounded(examples: int) -> Any:
    return settings(
        max_examples=int(os.environ.get("LEDGERBRIDGE_FUZZ_EXAMPLES", examples)),
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


HOSTILE_VALUES = st.one_of(
    st.sampled_from(mutations.HOSTILE),
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=30),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@st.composite
def mutated(draw: Any, doc: Any, depth: int = 0, most: int = 3) -> Any:
    """``doc`` with 1..``most`` drawn mutations below ``depth``."""
    for _ in range(draw(st.integers(1, most))):
        candidates = [p for p in mutations.paths(doc) if len(p) > depth]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        op = draw(st.sampled_from(mutations.OPS))
        value = draw(HOSTILE_VALUES) if op == "replace" else None
        doc = mutations.apply(doc, path, op, value)
    return doc


def targets_or_skip(platform: str) -> list[Any]:
    from bench.fuzz.mappers import targets

    try:
        return targets(platform)
    except FileNotFoundError as exc:
        pytest.skip(f"{exc} (CI has ../shared beside the repo)")
