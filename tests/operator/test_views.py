"""Checkpoints as `status` and the sync summary show them: each source's stored JSON in a
few words (its latest time and how many ids it keeps), never the raw JSON."""

from __future__ import annotations

import json

import pytest

from ledgerbridge.operator_views import checkpoints_text, summarise_checkpoint


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (  # Shopify: {"since", "seen": {id: updatedAt}}
            json.dumps(
                {
                    "since": "2026-12-04T10:31:07Z",
                    "seen": {
                        "1": "2026-12-04T10:31:07Z",
                        "2": "2026-12-04T10:30:00Z",
                        "3": "2026-12-04T10:31:07Z",
                    },
                }
            ),
            "2026-12-04 10:31 (+3 seen ids)",
        ),
        (  # WooCommerce: {"main": {"after", "ids"}}
            json.dumps({"main": {"after": "2026-03-02T20:26:00", "ids": [1001]}}),
            "2026-03-02 20:26 (+1 seen ids)",
        ),
        (  # API2Cart: {"v", "modified", "deleted"}, in another offset
            json.dumps({"v": 1, "modified": "2026-01-05T06:21:00-05:00", "deleted": None}),
            "2026-01-05 11:21",
        ),
        ("2026-02-01T00:00:00+00:00", "2026-02-01 00:00"),  # a plain --since time
        ("{}", "-"),
        (json.dumps({"cursor": "x" * 80}), '{"cursor":"' + "x" * 28 + "…"),
        ("not json at all " * 5, ("not json at all " * 5)[:39] + "…"),
    ],
)
def test_a_checkpoint_is_summarised(raw: str, shown: str) -> None:
    assert summarise_checkpoint(raw) == shown
    assert len(summarise_checkpoint(raw)) <= 40


def test_several_entities_are_named() -> None:
    one = {"order": json.dumps({"since": "2026-12-04T10:31:07Z", "seen": {}})}
    assert checkpoints_text(one) == "2026-12-04 10:31"
    two = {**one, "customer": "2026-12-01T00:00:00Z"}
    assert checkpoints_text(two) == "order: 2026-12-04 10:31\ncustomer: 2026-12-01 00:00"
    assert checkpoints_text({}) == "-"
