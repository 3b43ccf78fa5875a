"""The real-world order corpus: payloads published by others, addressed by provenance.

The repository keeps no copies of third-party files.  Each corpus entry names
the public file it comes from (repository, path, commit, licence) and how one
order is selected inside it (a JSON pointer; for documentation pages the n-th
JSON block; for Shopify's client-library tests the n-th recorded response
body).  ``fill`` brings the source files, unchanged, into a local cache
(``LEDGERBRIDGE_REALWORLD_DIR``, default ``tests/data/realworld/.cache``, never
committed): from a local git mirror when one is given, otherwise over HTTPS at
the pinned commit.  Vendor examples already on this machine
(``../shared/refdata``) are read where they lie.

A test that needs an entry whose file is absent is skipped with the reason,
and fails under ``CI=true`` -- the corpus is part of what CI proves.

    python -m tests.realworld.corpus fill [--mirrors /path/to/mirrors]
    python -m tests.realworld.corpus sources    # the SOURCES.md tables, from ENTRIES
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("LEDGERBRIDGE_REALWORLD_DIR", REPO / "tests/data/realworld/.cache"))
REFDATA = Path(os.environ.get("LEDGERBRIDGE_REFDATA", REPO.parent / "shared" / "refdata"))


@dataclass(frozen=True)
class SourceFile:
    repo: str  # owner/name on GitHub; "refdata" for ../shared/refdata
    path: str
    commit: str
    licence: str

    @property
    def local(self) -> Path:
        if self.repo == "refdata":
            return REFDATA / self.path
        return CACHE / self.repo.replace("/", "+") / self.commit[:12] / self.path


PY_API = "Shopify/shopify_python_api"
RUBY_API = "Shopify/shopify-api-ruby"
WOO_DOCS = "woocommerce/woocommerce-rest-api-docs"
RUBY_AT = "4eca719dfbb38326e66d6bff0f3611ceeec53aeb"
RUBY_OLD = "34d224347958f34ec3d19b50e001b6d57f4d3fa3"  # the fixtures before the 2021 rewrite
WOO_AT = "13d61967911cb312a27be2dc57b12d5949f40016"

FILES: dict[str, SourceFile] = {
    "shopify-refdata-orders": SourceFile(
        "refdata", "shopify-examples/rest_fixture_orders_partially_refunded_full.json", "", "MIT"
    ),
    "shopify-refdata-order": SourceFile(
        "refdata", "shopify-examples/rest_fixture_order.json", "", "MIT"
    ),
    "ruby-order-json": SourceFile(RUBY_API, "test/fixtures/order.json", RUBY_OLD, "MIT"),
    "ruby-order-props": SourceFile(
        RUBY_API, "test/fixtures/order_with_properties.json", RUBY_OLD, "MIT"
    ),
    "ruby-order-test": SourceFile(RUBY_API, "test/rest/2026_07/order_test.rb", RUBY_AT, "MIT"),
    "woo-v3-orders": SourceFile(
        WOO_DOCS, "source/includes/wp-api-v3/_orders.md", WOO_AT, "Apache-2.0"
    ),
    "woo-v3-refunds": SourceFile(
        WOO_DOCS, "source/includes/wp-api-v3/_order-refunds.md", WOO_AT, "Apache-2.0"
    ),
    "woo-v1-orders": SourceFile(
        WOO_DOCS, "source/includes/wp-api-v1/_orders.md", WOO_AT, "Apache-2.0"
    ),
    "a2c-amazon-info": SourceFile(
        "refdata",
        "api2cart-examples/amazonsp__order.info__order-id-111-2392565-0194613.response.json",
        "",
        "see refdata README",
    ),
    "a2c-etsy-info": SourceFile(
        "refdata",
        "api2cart-examples/etsyapiv3__order.info__order-id-4130825825.response.json",
        "",
        "see refdata README",
    ),
}


@dataclass(frozen=True)
class Entry:
    """One order of the corpus: where it is published and how it is picked out."""

    name: str
    platform: str
    file: str
    pointer: str  # JSON pointer inside the selected document
    block: int | None = None  # n-th JSON block (docs pages) / response body (Ruby tests)
    what: str = ""
    refunds: tuple[tuple[str, int, str], ...] = ()  # (file, block, pointer) of separate refunds
    # "post" (to the cent, following any mapping advice); otherwise why it cannot post:
    # "refused: ..." (the connector parks it as unreadable, naming the field);
    # "park-for-now: ..." (parks with advice that cannot yet be followed: a known defect
    # being fixed elsewhere -- its posting test is a strict xfail, so the fix shows)
    expect: str = "post"
    because: str = ""  # a fragment the parked or skipped record's reason must contain

    @property
    def source(self) -> SourceFile:
        return FILES[self.file]


def _shopify_ruby(n: int, what: str, pointer: str = "/order", **kw: Any) -> Entry:
    return Entry(f"ruby-order-test-{n}", "shopify", "ruby-order-test", pointer, n, what, **kw)


# Shopify's sample order #1001 does not add up (facts doc §10.8): its line tax 3.98 is not
# 6 % of the line, and the older fixture lists three 199.00 lines under a 409.94 total.
# The engine refuses to post numbers that contradict themselves -- parked, never crashed.
SAMPLE_TAX = "refused: Shopify's sample order states line tax 3.98 at 6 % of 195.66"
SAMPLE_TOTAL = "refused: Shopify's older sample order's lines exceed its stated total"
CANCELLED = "skipped: cancelled before it was ever posted, so nothing is booked"


# wc/v1 (WooCommerce 2.6) documents have no ``*_gmt`` dates; the connector reads wc/v3.
V1 = "refused: a wc/v1 document (no date_created_gmt); the connector reads wc/v3"


ENTRIES: tuple[Entry, ...] = (
    # ---- Shopify, REST / webhook shape
    Entry(
        "refdata-orders-0",
        "shopify",
        "shopify-refdata-orders",
        "/orders/0",
        None,
        "partially refunded, discount code across lines, line taxes, refund with transaction",
        expect=SAMPLE_TAX,
        because="tax stated 3.98 but 6% of 195.66",
    ),
    Entry(
        "refdata-order",
        "shopify",
        "shopify-refdata-order",
        "/order",
        None,
        "authorized (not captured), two tax lines, shipping with tax",
        expect=SAMPLE_TOTAL,
        because="the parts add up to",
    ),
    Entry(
        "ruby-fixture-order",
        "shopify",
        "ruby-order-json",
        "/order",
        None,
        "fixture order (an older copy of the sample)",
        expect=SAMPLE_TOTAL,
        because="the parts add up to",
    ),
    Entry(
        "ruby-fixture-order-properties",
        "shopify",
        "ruby-order-props",
        "/order",
        None,
        "line item properties",
        expect=SAMPLE_TOTAL,
        because="the parts add up to",
    ),
    _shopify_ruby(
        0,
        "list orders: partially refunded",
        "/orders/0",
        expect=SAMPLE_TAX,
        because="tax stated 3.98 but 6% of 195.66",
    ),
    _shopify_ruby(
        4,
        "list orders (since_id)",
        "/orders/0",
        expect=SAMPLE_TAX,
        because="tax stated 3.98 but 6% of 195.66",
    ),
    _shopify_ruby(5, "list orders: paid, one untaxed line", "/orders/0"),
    _shopify_ruby(12, "cancel order", expect=CANCELLED, because="cancelled"),
    _shopify_ruby(13, "cancel order with a refund", expect=CANCELLED, because="cancelled"),
    _shopify_ruby(
        14, "cancel order, refunded, gift card gateway", expect=CANCELLED, because="cancelled"
    ),
    _shopify_ruby(15, "create order: EUR shop, State tax 6 %, paid"),
    _shopify_ruby(16, "create order: partially paid"),
    _shopify_ruby(17, "create order: pending"),
    _shopify_ruby(18, "create order: paid, untaxed"),
    _shopify_ruby(19, "create order: paid, fulfilled"),
    _shopify_ruby(20, "create order: paid, with a customer"),
    _shopify_ruby(21, "create order: paid, with addresses"),
    _shopify_ruby(22, "create order: discount code FAKE30 (17.91 off)"),
    _shopify_ruby(
        23,
        "create order: three lines, State tax 6 % + County tax 2.5 % on each",
    ),
    # ---- WooCommerce, wc/v3 and wc/v1 documentation examples
    Entry(
        "woo-v3-retrieve-727",
        "woocommerce",
        "woo-v3-orders",
        "",
        1,
        "retrieve: processing, tax on lines and shipping",
    ),
    Entry(
        "woo-v3-list-723",
        "woocommerce",
        "woo-v3-orders",
        "/1",
        2,
        "list: completed, two refunds",
        refunds=(("woo-v3-refunds", 2, ""),),
    ),
    Entry("woo-v3-update-727", "woocommerce", "woo-v3-orders", "", 3, "update: completed"),
    Entry(
        "woo-v3-batch-728", "woocommerce", "woo-v3-orders", "/create/0", 5, "batch create: pending"
    ),
    Entry(
        "woo-v3-batch-729",
        "woocommerce",
        "woo-v3-orders",
        "/create/1",
        5,
        "batch create: processing",
    ),
    Entry(
        "woo-v1-retrieve-154", "woocommerce", "woo-v1-orders", "", 1, "wc/v1 retrieve", expect=V1
    ),
    Entry(
        "woo-v1-list-116",
        "woocommerce",
        "woo-v1-orders",
        "/1",
        2,
        "wc/v1 list, tax-free",
        expect=V1,
    ),
    Entry(
        "woo-v1-update-154",
        "woocommerce",
        "woo-v1-orders",
        "",
        3,
        "wc/v1 update: completed",
        expect=V1,
    ),
    Entry(
        "woo-v1-batch-155",
        "woocommerce",
        "woo-v1-orders",
        "/create/0",
        5,
        "wc/v1 batch create: pending",
        expect=V1,
    ),
    Entry(
        "woo-v1-batch-156",
        "woocommerce",
        "woo-v1-orders",
        "/create/1",
        5,
        "wc/v1 batch create: processing",
        expect=V1,
    ),
    # ---- API2Cart, official mock dataset
    Entry(
        "a2c-amazon-info",
        "api2cart",
        "a2c-amazon-info",
        "/result",
        None,
        "AmazonSP order.info: total without totals, tax without a rate",
        expect="post",
    ),
    Entry(
        "a2c-etsy-info",
        "api2cart",
        "a2c-etsy-info",
        "/result",
        None,
        "Etsy order.info: discount already in the subtotal",
    ),
)


class Absent(Exception):
    """The source file of an entry is not on this machine."""

    def __init__(self, message: str, *, third_party: bool) -> None:
        super().__init__(message)
        # A vendor example in ../shared/refdata is CI's to provide; a third party's file
        # is fetched by `fill` (network or mirrors), which a clean CI machine cannot do.
        self.third_party = third_party


def _ruby_bodies(text: str) -> list[str]:
    """The recorded response bodies of a Ruby REST test (``JSON.generate({...})``)."""
    return re.findall(r"body: JSON\.generate\((\{.*?\})\), headers: \{\}\)\n", text)


def _ruby_to_json(body: str) -> str:
    """A Ruby hash literal of plain data, read as JSON (``=>`` and ``nil`` only)."""
    out, i, in_str = [], 0, False
    while i < len(body):
        c = body[i]
        if in_str:
            out.append(c)
            if c == "\\":
                out.append(body[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif body.startswith("=>", i):
            out.append(":")
            i += 1
        elif body.startswith("nil", i):
            out.append("null")
            i += 2
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _md_blocks(text: str) -> list[str]:
    return re.findall(r"```json\n(.*?)```", text, re.S)


def _pointer(doc: Any, pointer: str) -> Any:
    for part in [p for p in pointer.split("/") if p]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def document(file: str, block: int | None, pointer: str) -> Any:
    source = FILES[file]
    if not source.local.is_file():
        raise Absent(
            f"{source.repo}:{source.path} is not in {source.local.parent}",
            third_party=source.repo != "refdata",
        )
    text = source.local.read_text(encoding="utf-8")
    if block is not None:
        if source.path.endswith(".rb"):
            text = _ruby_to_json(_ruby_bodies(text)[block])
        else:
            text = _md_blocks(text)[block]
    return _pointer(json.loads(text, parse_float=Decimal), pointer)


def payload(entry: Entry) -> dict[str, Any]:
    """The entry's order as published (numbers exact: ``parse_float=Decimal``)."""
    found = document(entry.file, entry.block, entry.pointer)
    assert isinstance(found, dict), entry.name
    return found


def raw_payload(entry: Entry) -> bytes:
    """The order as JSON text, the way a platform would send it."""
    return json.dumps(payload(entry), default=str).encode()


# ---------------------------------------------------------------- filling the cache


def fill(mirrors: Path | None) -> int:
    """Bring every source file into the cache, unchanged; returns how many are there."""
    done = 0
    for source in {s for s in FILES.values() if s.repo != "refdata"}:
        target = source.local
        if target.is_file():
            done += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        mirror = mirrors / source.repo.replace("/", "+") / "repo" if mirrors else None
        if mirror is not None and mirror.is_dir():
            content = subprocess.run(
                ["git", "-C", str(mirror), "show", f"{source.commit}:{source.path}"],
                check=True,
                capture_output=True,
            ).stdout
        else:
            import httpx

            url = f"https://raw.githubusercontent.com/{source.repo}/{source.commit}/{source.path}"
            response = httpx.get(url, timeout=60, follow_redirects=True)
            response.raise_for_status()
            content = response.content
        target.write_bytes(content)
        done += 1
    return done


def sources_table(platform: str) -> str:
    """The ``## Orders`` table of ``tests/data/realworld/<platform>/SOURCES.md``."""
    rows = [
        "| Entry | Source file | Commit | Licence | Selection | What it shows | Expected |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in ENTRIES:
        if e.platform != platform:
            continue
        f = e.source
        where = f"refdata `{f.path}`" if f.repo == "refdata" else f"`{f.repo}` `{f.path}`"
        commit = f"`{f.commit[:12]}`" if f.commit else "see the refdata README"
        pick = (f"block {e.block}, " if e.block is not None else "") + f"`{e.pointer or '/'}`"
        if e.refunds:
            pick += "; refunds: " + ", ".join(
                f"`{FILES[r[0]].path}` block {r[1]}" for r in e.refunds
            )
        rows.append(
            f"| `{e.name}` | {where} | {commit} | {f.licence} | {pick} | {e.what} | {e.expect} |"
        )
    return "\n".join(rows) + "\n"


def write_sources() -> None:
    """Rewrite the tables of the SOURCES.md files from ``ENTRIES`` (the text above them stays)."""
    for platform in ("shopify", "woocommerce", "api2cart"):
        path = REPO / "tests/data/realworld" / platform / "SOURCES.md"
        text = path.read_text(encoding="utf-8")
        head, _, rest = text.partition("## Orders\n\n")
        tail = rest.split("\n\n", 1)[1] if "\n\n" in rest else ""
        path.write_text(
            head + "## Orders\n\n" + sources_table(platform) + ("\n" + tail if tail else "")
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realworld.corpus")
    sub = parser.add_subparsers(dest="command", required=True)
    filling = sub.add_parser("fill", help="bring the corpus source files into the cache")
    filling.add_argument("--mirrors", type=Path, default=None, help="owner+name/repo git mirrors")
    sub.add_parser("sources", help="rewrite the SOURCES.md tables from the entries")
    args = parser.parse_args(argv)
    if args.command == "fill":
        print(f"{fill(args.mirrors)} source files in {CACHE}")
    elif args.command == "sources":
        write_sources()
    return 0


if __name__ == "__main__":
    sys.exit(main())
