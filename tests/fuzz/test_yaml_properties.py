"""Property: a configuration or mapping file, however mangled, loads or is refused with
``ConfigError`` naming ``file:line:column`` -- never another exception, never slowly.

Generic mutations of the shipped files run in process; the inputs known to break the
property today run in a child process bounded in time and memory.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.fuzz import yamls

from .support import bounded

SEEDS = yamls.seeds()


def test_the_shipped_files_keep_the_property(tmp_path: Path) -> None:
    yamls.prepare(tmp_path)
    for seed in SEEDS:
        path = tmp_path / "under-test.yaml"
        path.write_text(seed.text)
        assert yamls.violation(seed.kind, path, limit=5.0) is None, seed.name


@pytest.mark.parametrize("kind", ["config", "mapping"])
def test_mutated_files_load_or_fail_with_a_position(tmp_path: Path, kind: str) -> None:
    yamls.prepare(tmp_path)
    chosen = [s for s in SEEDS if s.kind == kind]

    @bounded(40)
    @given(
        seed=st.sampled_from(chosen), rng=st.randoms(use_true_random=False), count=st.integers(1, 4)
    )
    def check(seed: Any, rng: random.Random, count: int) -> None:
        path = tmp_path / "under-test.yaml"
        path.write_text(yamls.mutate(rng, seed.text, count), encoding="utf-8")
        problem = yamls.violation(kind, path, limit=2.0)
        assert problem is None, f"{seed.name}: {problem}\n---\n{path.read_text()[:2000]}"

    check()


KNOWN = sorted(yamls.KNOWN)


@pytest.mark.parametrize("kind", ["config", "mapping"])
@pytest.mark.parametrize("name", KNOWN)
def test_hostile_files_are_refused_quickly_with_a_position(
    tmp_path: Path, name: str, kind: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(yamls.KNOWN[name])
    if name not in yamls.MEMORY_HUNGRY:
        assert yamls.bounded(kind, path, limit=1.0) is None
        return
    assert yamls.isolated(kind, path, limit=1.0) is None


@pytest.mark.parametrize("key", ["dat[_center", "function-x", "a[b]c"])
def test_an_unknown_key_that_looks_like_a_pydantic_tag_is_reported_at_its_position(
    tmp_path: Path, key: str
) -> None:
    """Found by the fuzzer: ``dat[_center`` (a typo) was taken for a union tag and dropped,
    and ``ledgerbridge check`` died with IndexError."""
    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(
        "version: 1\ntenants:\n  - id: demo\n    connections:\n      books:\n"
        "        platform: zohobooks\n        settings:\n"
        f"          {key}: eu\n"
    )
    from ledgerbridge.config import load_config
    from ledgerbridge.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(path)
    messages = [(loc.line, loc.column, text) for loc, text in caught.value.problems]
    assert any(
        line == 8 and f"settings.{key}: unknown key {key!r}" in text for line, _, text in messages
    ), messages


def test_a_mapping_key_that_looks_like_a_pydantic_tag_is_reported_at_its_position(
    tmp_path: Path,
) -> None:
    """Found by the fuzzer: ``exte[ds:`` made ``mappings validate`` die with IndexError."""
    from ledgerbridge.errors import ConfigError
    from ledgerbridge.mapping.loader import load_mapping

    path = tmp_path / "m.yaml"
    path.write_text("exte[ds: shopify-to-zohobooks\nsource: shopify\n")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert any(
        (loc.line, text) == (1, "exte[ds: unknown key 'exte[ds' (did you mean 'extends'?)")
        for loc, text in caught.value.problems
    ), caught.value.problems
