"""The corpus is what SOURCES.md says it is: every entry listed with its provenance."""

from __future__ import annotations

import re

from .corpus import ENTRIES, FILES, REPO, sources_table


def test_every_entry_has_provenance_and_the_sources_files_list_them() -> None:
    assert len(ENTRIES) >= 30
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)
    for source in FILES.values():
        assert source.path and source.licence
        if source.repo != "refdata":
            assert re.fullmatch(r"[0-9a-f]{40}", source.commit), source
    for platform in ("shopify", "woocommerce", "api2cart"):
        text = (REPO / "tests/data/realworld" / platform / "SOURCES.md").read_text()
        assert sources_table(platform) in text, (
            f"run: python -m tests.realworld.corpus sources ({platform})"
        )


def test_every_expectation_is_a_known_kind() -> None:
    for entry in ENTRIES:
        kind = entry.expect.split(":", 1)[0]
        assert kind in ("post", "refused", "skipped", "park-for-now"), entry.name
