"""``ledgerbridge check`` on catalog pipelines: ownership refused at file:line:column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ledgerbridge.config import load_config
from ledgerbridge.errors import ConfigError

HEAD = """\
version: 1
tenants:
  - id: acme
    connections:
      books:
        platform: zohobooks
        settings: {organization_id: "1"}
        secrets: {client_id: a, client_secret: b, refresh_token: c}
      shop:
        platform: shopify
        settings: {shop: emulated}
        secrets: {access_token: t}
    pipelines:
"""


def _load(tmp_path: Path, pipelines: str) -> object:
    path = tmp_path / "ledgerbridge.yaml"
    path.write_text(HEAD + textwrap.indent(textwrap.dedent(pipelines), "      "))
    path.chmod(0o600)
    return load_config(path)


def test_a_valid_catalog_pipeline_loads_with_owners_resolved_by_platform(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        """\
        - id: cat
          kind: catalog
          connections: [books, shop]
          ownership: {name: shopify, price: zohobooks, stock: books, status: shop}
        """,
    )
    [entry] = loaded.catalogs  # type: ignore[attr-defined]
    assert entry.pipeline.ownership == {
        "name": "shop",
        "price": "books",
        "stock": "books",
        "status": "shop",
    }
    assert loaded.config.tenants[0].pipelines == []  # type: ignore[attr-defined]


def test_a_field_owned_by_both_sides_is_refused_where_it_is_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(
            tmp_path,
            """\
            - id: cat
              kind: catalog
              connections: [books, shop]
              ownership:
                name: shop
                price: [books, shop]
            """,
        )
    [(where, message)] = caught.value.problems
    assert (where.line, where.column) == (19, 11)  # the line of `price:`
    assert "owned by both sides" in message


def test_an_owner_the_other_side_cannot_follow_is_refused(tmp_path: Path) -> None:
    # Books cannot write stock (it moves through inventory adjustments): the shop
    # cannot own stock in this pair.
    with pytest.raises(ConfigError) as caught:
        _load(
            tmp_path,
            """\
            - id: cat
              kind: catalog
              connections: [books, shop]
              ownership: {price: books, stock: shop}
            """,
        )
    [(where, message)] = caught.value.problems
    assert where.line == 17 and "cannot write 'stock'" in message


def test_an_order_pipeline_after_a_catalog_one_keeps_its_own_positions(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(
            tmp_path,
            """\
            - id: cat
              kind: catalog
              connections: [books, shop]
              ownership: {price: books}
            - id: orders
              source: shop
              target: books
              mapping: shopify-to-zohobooks
              posting_policy: nonsense
            """,
        )
    [(where, message)] = caught.value.problems
    assert where.line == 22 and "posting_policy" in message
