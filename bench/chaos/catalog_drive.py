"""The catalog scenario: a catalog pipeline per storefront, killed and faulted through rounds
of the merchant's edits, then settled and verified from the platforms (``catalog_verify``).

Per book (a storefront and its Zoho Books organisation, ``catalog_world``):

1. **Faults on** for the whole chaos phase: every write kind of both sides gets each fault
   kind -- a lost response after the commit, a 5xx, the platform's throttle (Zoho's 429
   code 1070, Shopify's ``THROTTLED``, a host's 429 for WooCommerce, API2Cart's return
   code 7) -- at random on a share of its writes.
2. **Rounds.** Round 0 is the first alignment (names and statuses to Books, prices and
   stock to the shop), completed by a run that is not killed.  Each round's runs are
   SIGKILLed right after the next committed write on one side (the platform commits, the
   worker dies before the answer; the shop's writes two times in three), a quarter of
   them also on a timer (reading, planning, between calls).  Right after a round's last
   kill -- with no worker alive, the dead run's writes landed but not recorded -- the
   harness edits a share of the Zoho prices and stock levels and a few
   of the shop's titles: what the dead run meant to write is now stale.  A book whose
   kills fall short after the rounds asked for (a shop that batches its writes offers
   few requests to kill on) gets extra rounds, at most as many again.
3. **Settling**: faults and kills off, ``sync`` until nothing is retrying, then one clean
   ``sync`` whose write requests the journals count (must be 0).
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .catalog_platforms import SCOPE, price
from .catalog_verify import CatalogVerdict, Edit, RunSpan, pairs, verify
from .catalog_world import CatalogBook, start
from .worker import LIVE, Tally, Worker
from .world import World

SHOP_KINDS = {
    "shopify": ("variants", "stock", "product"),
    "woocommerce": ("batch", "variations"),
    "api2cart": ("product", "variant"),
}
SHOP_FAULTS = ("lose_response", "error_5xx", "throttle")
BOOKS_FAULTS = ("lose_response", "error_5xx", "throttle_1070")
SETTLE_PASSES = 8


@dataclass
class CatalogBudget:
    kills: int  # per book, spread over the rounds
    rounds: int = 3  # round 0 (first alignment) and the edit rounds after it
    edit_share: float = 0.3  # share of the paired variants edited in Books per round
    fault_rate: float = 0.3
    faults_per_rule: int = 2


@dataclass
class CatalogRow:
    source: str
    verdict: CatalogVerdict
    variants: int
    edits: int
    kills: int
    timer_kills: int
    faults: int
    clean_writes: int | None
    runs: int
    seconds: float
    problems: list[str] = field(default_factory=list)
    rounds: int = 0

    @property
    def ok(self) -> bool:
        return self.verdict.clean and self.clean_writes == 0 and not self.problems

    def as_json(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "scenario": "catalog", "source": self.source, "variants": self.variants,
            "paired": v.paired, "rounds": self.rounds, "edits": self.edits, "kills": self.kills,
            "timer_kills": self.timer_kills, "faults": self.faults, "writes": v.writes,
            "lost": v.lost, "stale": v.stale, "wrong_side": v.wrong_side,
            "repeated": v.repeated, "resent": dict(v.resent), "conflicts": v.conflicts,
            "parked": dict(v.parked), "parked_by_harness": v.parked_by_harness,
            "clean_rerun_writes": self.clean_writes, "runs": self.runs,
            "seconds": round(self.seconds, 1), "ok": self.ok, "problems": self.problems,
            "details": v.details,
        }  # fmt: skip


@dataclass
class _Book:
    world: World
    book: CatalogBook
    rng: random.Random
    tally: Tally = field(default_factory=Tally)
    runs: list[RunSpan] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    round_count: int = 0

    @property
    def shop(self) -> Any:
        return self.world.control(self.book.source)

    @property
    def zoho(self) -> Any:
        return self.world.control("zohobooks")

    def books_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.zoho.get("export/catalog", scope=self.book.org_id)
        return rows

    def journals(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        books = [e for e in self.zoho.get("export/writes") if e["scope"] == self.book.org_id]
        return books, self.shop.get("export/writes")

    def sync(self, worker: Worker, kill_after: float | None = None) -> Any:
        started = time.time()
        outcome = worker.sync_through_lease(kill_after=kill_after)
        self.runs.append(RunSpan(started, time.time(), outcome.killed))
        return outcome

    def kills_off(self) -> None:
        self.zoho.delete(f"kill?scope={self.book.org_id}")
        self.shop.delete(f"kill?scope={SCOPE}")

    def faults(self, budget: CatalogBudget) -> None:
        def rules(scope: str, kinds: tuple[str, ...], faults: tuple[str, ...]) -> list[Any]:
            return [
                {
                    "fault": f,
                    "kind": k,
                    "scope": scope,
                    "times": budget.faults_per_rule,
                    "rate": budget.fault_rate,
                }
                for k in kinds
                for f in faults
            ]

        self.zoho.post("faults", {"rules": rules(self.book.org_id, ("item",), BOOKS_FAULTS)})
        kinds = SHOP_KINDS[self.book.source]
        self.shop.post("faults", {"rules": rules(SCOPE, kinds, SHOP_FAULTS)})

    def faults_off(self) -> None:
        self.zoho.delete(f"faults?scope={self.book.org_id}")
        self.shop.delete(f"faults?scope={SCOPE}")

    def edit(self, share: float, round_no: int) -> None:
        """The merchant's edits between runs: Books prices and stock, a few shop titles.

        Half of them go to the records the last run wrote (the journals say which) -- if
        it was killed, its writes landed unrecorded, and the edit makes them stale."""
        books, shop = self.books_rows(), self.shop.get("export/catalog")
        paired = pairs(books, shop)
        by_id = {r["id"]: r for r in books}
        item_of = {v: k for k, v in paired.items()}
        product = {r["id"]: r["product_id"] for r in shop}
        books_j, shop_j = self.journals()
        since = self.runs[-1].start if self.runs else 0.0
        hot: dict[str, set[str]] = {}  # item -> the fields the last run wrote to the shop
        for e in shop_j:
            for k, name, _ in e["writes"] if e["t"] >= since else []:
                hot.setdefault(str(item_of.get(k)), set()).add(name)
        named = {k for e in books_j if e["t"] >= since for k, _, _ in e["writes"]}
        hot_products = {product.get(paired.get(str(i), "")) for i in named}
        for item in self._pick(sorted(paired), set(hot), int(len(paired) * share)):
            row = by_id[item]
            change: dict[str, Any] = {"org": self.book.org_id, "item_id": item}
            fields = hot.get(item) or {"price" if self.rng.random() < 0.7 else "stock"}
            if "price" in fields or self.rng.random() < 0.3:
                change["price"] = price(Decimal(row["price"]) + Decimal(round_no) + Decimal("0.25"))
            if row["stock"] is not None and ("stock" in fields or self.rng.random() < 0.3):
                change["stock"] = str(int(row["stock"]) + 3 * round_no + 1)
            self.zoho.post("action/edit_item", change)
            now = time.time()
            for name in ("price", "stock"):
                if name in change:
                    self.edits.append(Edit(now, "books", item, name, change[name]))
        products = sorted({r["product_id"] for r in shop if r["id"] in set(paired.values())})
        for pid in self._pick(products, hot_products, len(products) // 5):
            title = f"{next(r['name'] for r in shop if r['product_id'] == pid)} (r{round_no})"
            self.shop.post("action/edit", {"product_id": pid, "name": title})
            self.edits.append(Edit(time.time(), "shop", pid, "name", title))
        time.sleep(1.1)  # the platforms' modification times have whole seconds

    def _pick(self, pool: list[str], hot: set[Any], n: int) -> list[str]:
        """``n`` (at least 1) of ``pool``: half from ``hot`` where it has them."""
        n = max(1, min(n, len(pool)))
        warm = sorted(x for x in pool if x in hot)
        chosen = self.rng.sample(warm, min(len(warm), (n + 1) // 2))
        rest = [x for x in pool if x not in chosen]
        return chosen + self.rng.sample(rest, min(len(rest), n - len(chosen)))

    def cli_json(self, worker: Worker, *args: str) -> list[dict[str, Any]]:
        done = worker.cli(*args, "--json", "-c", str(self.book.config))
        try:
            rows: list[dict[str, Any]] = json.loads(done.stdout or "[]")
        except ValueError:
            self.tally.errors.append(f"{' '.join(args)} --json: {done.stderr.strip()[-200:]}")
            return []
        return [r for r in rows if r.get("pipeline") in (None, self.book.pipeline)]


def drive(b: _Book, budget: CatalogBudget) -> CatalogRow:
    started = time.monotonic()
    worker = Worker(b.world, b.book, b.tally, b.rng)
    books_before, shop_before = b.books_rows(), b.shop.get("export/catalog")
    b.faults(budget)
    round_no = 0
    while True:
        due = budget.kills - (b.tally.kills - b.tally.timer_kills)
        quota = -(-due // max(1, budget.rounds - round_no))  # the kills due, spread evenly
        landed = 0
        while landed < quota:
            b.kills_off()
            if b.rng.random() < 1 / 3:  # on a Books write (a name or status), else the shop's
                b.zoho.post("kill", {"scope": b.book.org_id, "kind": "*", "after": 1})
            else:
                b.shop.post("kill", {"scope": SCOPE, "kind": "*", "after": 1})
            timer = b.rng.uniform(0.5, 4.0) if b.rng.random() < 0.25 else None
            timers = b.tally.timer_kills
            outcome = b.sync(worker, kill_after=timer)
            if not outcome.killed:
                break  # nothing left to write this round: the round is done
            landed += int(b.tally.timer_kills == timers)  # a timer's kill is an extra
        b.kills_off()
        if round_no == 0:
            b.sync(worker)  # the first alignment completes: later rounds start from it
        round_no += 1
        due = budget.kills - (b.tally.kills - b.tally.timer_kills)
        # a shop that batches its writes (WooCommerce: one request a round) offers few
        # writes to kill on: extra rounds, at most as many again, until the kills landed
        if round_no >= budget.rounds and (due <= 0 or round_no >= 2 * budget.rounds):
            break
        # right after the round's last kill: the dead run's writes are not recorded yet,
        # and what it meant to write is now stale
        b.edit(budget.edit_share, round_no)
    b.round_count = round_no
    # settle: faults off, converge, then one clean run
    b.faults_off()
    b.kills_off()
    for _ in range(SETTLE_PASSES):
        if b.sync(worker).returncode == 0:
            break
        if not any(r["state"] == "retrying" for r in worker.failures()):
            break
        worker.cli("replay", "--state", "retrying", "-c", str(b.book.config))
    books_j, shop_j = b.journals()
    outcome = b.sync(worker)
    after_books, after_shop = b.journals()
    clean = len(after_books) - len(books_j) + len(after_shop) - len(shop_j)
    injected = sum(
        sum(c.get(scope, {}).values())
        for c, scope in (
            (b.zoho.get("counters")["injected"], b.book.org_id),
            (b.shop.get("counters")["injected"], SCOPE),
        )
    )
    (b.book.directory / "catalog-journal.json").write_text(  # for a post-mortem
        json.dumps(
            {
                "runs": [r.__dict__ for r in b.runs],
                "edits": [e.__dict__ for e in b.edits],
                "books": books_j,
                "shop": shop_j,
            },
            indent=1,
        )
    )
    verdict = verify(
        books_before=books_before, shop_before=shop_before, books_after=b.books_rows(),
        shop_after=b.shop.get("export/catalog"), edits=b.edits, books_journal=books_j,
        shop_journal=shop_j, runs=b.runs, parks=worker.failures(),
        conflicts=b.cli_json(worker, "conflicts"),
    )  # fmt: skip
    problems = list(b.tally.errors)
    if outcome.returncode not in (0, 3):  # 3: genuine needs_mapping parks listed
        problems.append(f"the clean re-run exited {outcome.returncode}")
    if clean:
        problems.append(f"the clean re-run made {clean} write request(s)")
    if b.tally.lease_blocked:
        problems.append(f"restart blocked by a dead worker's lease {b.tally.lease_blocked} time(s)")
    write_kills = b.tally.kills - b.tally.timer_kills
    if write_kills < budget.kills:
        problems.append(f"{write_kills} kill(s) on committed writes landed of {budget.kills}")
    worker.close()
    return CatalogRow(
        source=b.book.source, verdict=verdict, variants=len(shop_before),
        edits=len(b.edits), kills=b.tally.kills, timer_kills=b.tally.timer_kills,
        faults=injected, clean_writes=clean, runs=b.tally.runs,
        seconds=time.monotonic() - started, problems=problems, rounds=b.round_count,
    )  # fmt: skip


def run_catalog(
    sources: list[str], *, root: Path, products: int, budget: CatalogBudget, seed: int, jobs: int
) -> list[CatalogRow]:
    world = start(root / "catalog", sources, products=products, seed=seed)
    try:
        books = [
            _Book(world, book, random.Random(f"{seed}:{book.name}"))
            for book in world.books  # type: ignore[attr-defined]
        ]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(lambda b: drive(b, budget), books))
    finally:
        for proc in list(LIVE):
            if proc.poll() is None:
                proc.kill()
        world.stop()
