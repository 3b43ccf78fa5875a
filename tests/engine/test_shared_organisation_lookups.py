"""Two pipelines writing into one organisation never answer look-ups from a bulk copy.

A first run reads an organisation's contacts and items as one list page and answers its
look-ups from it (``Target.prepare_lookups``) -- safe while the pipeline's lease keeps
every other writer out.  A second pipeline into the same organisation (a merchant with two
shops and one set of books) is not kept out by that lease: a customer it creates after the
copy was read would be created again.  Such pipelines search before each create."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from .test_units_of_work import _recorded

pytestmark = pytest.mark.usefixtures("secret_key")

FILTERS = ("email=", "search_text=", "contact_name", "sku", "name=", "cf_")


def _page_reads(calls: list[tuple[str, str, str]], path: str) -> int:
    """Unfiltered list reads (a search names what it looks for)."""
    return sum(
        1 for m, p, q in calls if m == "GET" and p == path and not any(f in q for f in FILTERS)
    )


def _sync(engine: object) -> None:
    async def go() -> None:
        async with engine:  # type: ignore[attr-defined]
            await engine.sync("pipe")  # type: ignore[attr-defined]

    anyio.run(go)


def test_a_sole_writer_reads_the_organisation_in_bulk(tmp_path: Path) -> None:
    context, box = _recorded(tmp_path, orders=4)
    with context as h:
        _sync(h.engine())
        assert _page_reads(box["r"].calls, "/books/v3/contacts") >= 1


def test_a_second_pipeline_into_the_organisation_turns_bulk_copies_off(tmp_path: Path) -> None:
    context, box = _recorded(tmp_path, orders=4)
    with context as h:
        text = h.config_path.read_text()
        second = (
            "      - id: pipe-two\n        source: shop\n        target: books\n"
            "        mapping: mapping.yaml\n        enabled: false\n"
        )
        h.config_path.write_text(text.rstrip("\n") + "\n" + second)
        _sync(h.engine())
        calls = box["r"].calls
        assert _page_reads(calls, "/books/v3/contacts") == 0, [
            c for c in calls if "contacts" in c[1]
        ]
        assert _page_reads(calls, "/books/v3/items") == 0, calls
        searches = [c for c in calls if c[0] == "GET" and c[1] == "/books/v3/contacts"]
        assert searches  # each new customer was looked up before it was created
        names = [c["contact_name"] for c in h.documents("contacts")]
        assert len(names) == len(set(names))
