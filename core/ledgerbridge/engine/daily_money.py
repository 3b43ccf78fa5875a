"""The money of a closed summary day, posted: payments in, refunds out.

Once a day's summary documents are written (``daily``), its money follows:

* per gateway, the day's captured payments as **one customer payment** applied to the
  day's summary invoice (then to its adjusting invoices, oldest first), deposited in the
  account the mapping names for the gateway (``lookups.payment_methods``);
* per gateway, the money refunded that day as **a refund of the day's summary credit
  note** (then of its adjusting credit notes), paid from the gateway's account;
* a late decrease of a posted day (its adjusting credit note) is applied to the day's
  invoices' open balance, so a cancelled unpaid order leaves nothing open either.

Late money -- a capture or refund of a day already closed -- is the difference between
what the orders now say and what earlier closes posted (every money write is its own
binding, ``summary_payment|<gateway>|<n>``): an *adjusting* payment or refund, never a
rewrite.  A payment is applied to no document beyond its open balance: money beyond
every open invoice of the day stays unapplied on the payment (the summary customer's
credit, visible in the books for the operator); refunded money beyond every open credit
note of the day waits for the credit that a later close will post.

Every write goes through the executor (intent, idempotency key, adoption after a lost
answer) like any other; the keys are numbered per gateway, so a write whose outcome is
unknown keeps its key until a later run resolves it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ..errors import AuthFailed, SyncError
from ..plan import (
    BusinessKey,
    ContactDraft,
    CreditApplication,
    CreditRefundDraft,
    DocumentKind,
    Link,
    PaymentDraft,
    TargetRef,
)
from ..store.models import RecordState
from . import summary_money as money
from .executor import Executor
from .journal import Journal, off_loop
from .planner import MappingRuntime, Operation, Plan, PlannedWrite

log = logging.getLogger(__name__)

PAYMENT, REFUND, APPLICATION = "summary_payment", "summary_refund", "summary_application"


class DailyMoney:
    """The money half of the daily_summary policy (``DailySummaries`` inherits it)."""

    runtime: MappingRuntime
    journal: Journal
    executor: Executor
    _db = staticmethod(off_loop)
    money_left: list[str]  # buckets whose money could not be posted by the last close

    def _summary_contact(self, currency: str) -> ContactDraft:
        """The one customer every summary document of ``currency`` is written to."""
        return ContactDraft(
            link=Link(key=f"contact:summary:{currency}"),
            display_name=f"{self.runtime.mapping.summary.contact_name} ({currency})",
            currency=currency,
            unique_name=True,
        )

    def _rate_fields(self, currency: str, day: date) -> dict[str, Any]:
        """The mapping's rate for ``currency`` (a summary has no source rate of its own)."""
        rules = self.runtime.mapping.lookups.currencies
        return {
            "exchange_rate": rules.exchange_rates.get(currency),
            "target_rate_on": day if rules.fallback_rate == "target" else None,
        }

    async def close_money(self, contributions: Iterable[Any], today: date) -> list[str]:
        """Post the money of every closed day; one entry per write."""
        self.money_left = []
        paid: dict[str, list[dict[str, Any]]] = {}
        refunded: dict[str, list[tuple[dict[str, str], dict[str, Any]]]] = {}
        for b in contributions:
            c = b.snapshot
            m = c.get("money") or {}
            mode = "incl" if c.get("taxes_included") else "excl"
            paid.setdefault(f"{c['day']}|{c['currency']}|{mode}", []).append(m)
            for refund_day, per in m.get("refunded", {}).items():
                key = f"{refund_day}|{c['currency']}|{mode}"
                refunded.setdefault(key, []).append((per, m))
        closed = sorted(
            b for b in set(paid) | set(refunded) if date.fromisoformat(b.split("|")[0]) < today
        )
        by_day: dict[str, list[Any]] = {b: [] for b in closed}
        for start in range(0, len(closed), 500):  # a query per 500 days (bind-variable limits)
            chunk = closed[start : start + 500]
            for binding in await self._db(self.journal.bindings_for, "day", chunk):
                by_day.setdefault(binding.external_id, []).append(binding)
        written: list[str] = []
        for bucket in closed:
            if bucket in paid:
                work = self._settle_sales(bucket, paid[bucket], by_day[bucket])
                written += await self._guarded(bucket, work)
        for bucket in closed:
            if bucket in refunded:
                work = self._pay_back(bucket, refunded[bucket], by_day[bucket])
                written += await self._guarded(bucket, work)
        return written

    async def _guarded(self, bucket: str, work: Any) -> list[str]:
        """One day's money: a failure is retried at the next close (its intents say what is
        unknown) and, meanwhile, shown: a failed ``day`` record with the reason, counted in
        the run's report (``money_left``) so ``sync`` exits non-zero and ``status`` and
        ``failures`` list it; a later close that posts the money marks it synced.  Dead
        credentials stop the run as anywhere else."""
        try:
            result: list[str] = await work
        except AuthFailed:
            raise
        except SyncError as exc:
            log.warning("the money of summary day %s is not posted yet: %s", bucket, exc)
            self.money_left.append(bucket)
            await self._db(self._money_state, bucket, exc)
            return []
        await self._db(self._money_state, bucket, None)
        return result

    def _money_state(self, bucket: str, exc: SyncError | None) -> None:
        """The ``day`` record of a bucket whose money failed: failed with the reason, or
        synced once posted (no record is created for a day whose money never failed)."""
        row = self.journal.open_records("day", [bucket], create=exc is not None)[bucket]
        now = datetime.now(UTC)
        if exc is not None:
            reason = (
                f"the money of summary day {bucket.replace('|', ' ')} is not posted: {exc}. "
                "Fix the cause (the gateway's account or payment mode in "
                "lookups.payment_methods, the currency's rate in lookups.currencies), then "
                "run sync: every close retries it"
            )
            self.journal.transition(
                row.id, RecordState.FAILED, started_at=now, error=exc, reason=reason
            )
        elif row.id and row.state != RecordState.SYNCED.value:
            self.journal.transition(row.id, RecordState.SYNCED, started_at=now)

    # ------------------------------------------------------------------ payments in

    async def _settle_sales(
        self, bucket: str, monies: list[dict[str, Any]], bindings: list[Any]
    ) -> list[str]:
        day, currency, mode = bucket.split("|")
        invoices = _documents(bindings, "sales", "increase")
        if not invoices:
            return []  # the day's invoice is not posted (yet): its money waits for it
        now = money.per_gateway(m.get("paid", {}) for m in monies)
        posted, last = money.posted_per_gateway(bindings, PAYMENT)
        balances: list[tuple[str, Decimal]] | None = None
        written: list[str] = []
        for gateway in sorted(now):
            due = now[gateway] - posted.get(gateway, Decimal(0))
            if due < 0:
                log.warning(
                    "summary day %s: %s %s less was captured via %s than is posted; "
                    "money is never taken back by the engine", bucket, -due, currency, gateway,
                )  # fmt: skip
            if due <= 0:
                continue
            if balances is None:
                balances = [(i, await self._open(DocumentKind.INVOICE, i)) for i in invoices]
            applied = money.allocate(due, balances)
            method = self._method_of(monies, "methods", gateway)
            captured = [m["paid_on"][gateway] for m in monies if gateway in m.get("paid_on", {})]
            on = date.fromisoformat(max([day, *captured]))  # a late capture: its own day
            n = last.get(gateway, 0) + 1
            draft = PaymentDraft(
                key=BusinessKey(
                    reference=_reference("Sales", day, currency, mode),
                    source_key=f"summary:{day}:{currency}:{mode}:payment:{gateway}:{n}",
                ),
                contact=self._summary_contact(currency).link,
                amount=due,
                currency=currency,
                date=on,
                payment_mode=method[0],
                account_id=method[1],
                reference=f"{gateway} {day}",
                **self._rate_fields(currency, on),
                applied_to=tuple(
                    (Link(key=f"summary_invoice:{target_id}", target_id=target_id), amount)
                    for target_id, amount in applied
                ),
            )
            unapplied = due - sum((a for _, a in applied), Decimal(0))
            late = "" if n == 1 else "late "
            reason = f"{late}payments of {day} {currency} via {gateway}"
            if unapplied:
                reason += f" ({unapplied} beyond the day's open invoices: unapplied credit)"
            write = PlannedWrite(
                Operation.RECORD_PAYMENT, "day", bucket, f"{PAYMENT}|{gateway}|{n}", reason,
                draft=draft, snapshot={"amount": str(due), "unapplied": str(unapplied)},
            )  # fmt: skip
            written += await self._run(bucket, currency, write)
            # Read again before the next write: this one may have been adopted (made by a
            # run that crashed), its effect already in the balances read above.
            balances = None
        written += await self._apply_decreases(bucket, currency, bindings, invoices)
        return written

    async def _apply_decreases(
        self,
        bucket: str,
        currency: str,
        bindings: list[Any],
        invoices: list[str],
    ) -> list[str]:
        """A late decrease's credit note, applied to what the day's invoices still owe."""
        notes = _documents(bindings, "sales", "decrease")
        done = {
            b.target_kind.split("|")[1] for b in bindings if b.target_kind.startswith(APPLICATION)
        }
        notes = [n for n in notes if n not in done]
        if not notes:
            return []
        written: list[str] = []
        for note in notes:
            credit = await self._open(DocumentKind.CREDIT_NOTE, note)
            balances = [(i, await self._open(DocumentKind.INVOICE, i)) for i in invoices]
            applied = money.allocate(credit, balances)[:1]  # one application per note
            if not applied:
                continue
            invoice, amount = applied[0]
            write = PlannedWrite(
                Operation.APPLY_CREDIT, "day", bucket, f"{APPLICATION}|{note}|1",
                f"late decrease of {bucket.replace('|', ' ')} applied to its invoice",
                draft=CreditApplication(
                    credit_note=Link(key=f"summary_note:{note}", target_id=note),
                    document=Link(key=f"summary_invoice:{invoice}", target_id=invoice),
                    amount=amount,
                ),
                snapshot={"amount": str(amount)},
            )  # fmt: skip
            written += await self._run(bucket, currency, write)
        return written

    # ------------------------------------------------------------------ refunds out

    async def _pay_back(
        self,
        bucket: str,
        pairs: list[tuple[dict[str, str], dict[str, Any]]],
        bindings: list[Any],
    ) -> list[str]:
        day, currency, mode = bucket.split("|")
        notes = _documents(bindings, "refunds", "increase")
        if not notes:
            return []  # the day's credit note is not posted (yet)
        now = money.per_gateway(per for per, _ in pairs)
        posted, last = money.posted_per_gateway(bindings, REFUND)
        balances: list[tuple[str, Decimal]] | None = None
        written: list[str] = []
        for gateway in sorted(now):
            due = now[gateway] - posted.get(gateway, Decimal(0))
            n = last.get(gateway, 0)
            method = self._method_of([m for _, m in pairs], "refund_methods", gateway)
            while due > 0:
                if balances is None:
                    balances = [(c, await self._open(DocumentKind.CREDIT_NOTE, c)) for c in notes]
                chunk = money.allocate(due, balances)[:1]  # one note per refund write
                if not chunk:
                    log.info(
                        "summary day %s: %s %s refunded via %s waits for its credit note",
                        bucket, due, currency, gateway,
                    )  # fmt: skip
                    break
                note, amount = chunk[0]
                balances = None  # read again before the next write (see ``_settle_sales``)
                n += 1
                draft = CreditRefundDraft(
                    # The key is the refund's own: Zoho finds a lost refund by it.
                    credit_note=Link(
                        key=f"summary:{day}:{currency}:{mode}:refund:{gateway}:{n}",
                        target_id=note,
                    ),
                    amount=amount,
                    date=date.fromisoformat(day),
                    from_account_id=method[1],
                    payment_mode=method[0],
                    reference=_reference("Refunds", day, currency, mode),
                )
                write = PlannedWrite(
                    Operation.REFUND_CREDIT, "day", bucket, f"{REFUND}|{gateway}|{n}",
                    f"refunds of {day} {currency} via {gateway}", draft=draft,
                    snapshot={"amount": str(amount)},
                )  # fmt: skip
                written += await self._run(bucket, currency, write)
                due -= amount
        return written

    # ------------------------------------------------------------------ shared

    def _method_of(self, monies: list[dict[str, Any]], key: str, gateway: str) -> list[str | None]:
        """The gateway's payment mode and account as the mapping names them *now*: a
        close that failed on a wrong account is fixed by fixing the mapping, without
        waiting for every order of the day to change.  The contributions' copy (read when
        each order was) is the fallback for a gateway the mapping no longer names."""
        table = self.runtime.mapping.lookups.payment_methods
        found = table.entries.get(gateway, table.default)
        if found is not None and found.account_id is not None:
            return [found.payment_mode, found.account_id]
        return _method(monies, key, gateway)

    async def _open(self, kind: DocumentKind, target_id: str) -> Decimal:
        """What a document still owes (an invoice) or still holds (a credit note), read from
        the target: payments the merchant recorded there count too."""
        ref = TargetRef(kind=kind.value, target_id=target_id)
        doc = await self.executor.target.get_document(ref)
        if doc.balance is not None:
            return doc.balance
        return doc.total or Decimal(0)

    async def _run(self, bucket: str, currency: str, write: PlannedWrite) -> list[str]:
        contact = self._summary_contact(currency)
        plan = Plan(
            order_key=f"summary:{bucket}",
            version=None,
            writes=[write],
            contact=contact,
            contact_keys=[("name", contact.display_name)],
        )
        results = await self.executor.execute(plan, None)
        return [f"{write.target_kind} {bucket}" for _, outcome in results if outcome == "written"]


def _documents(bindings: list[Any], what: str, part: str) -> list[str]:
    """The day's documents of one side, oldest first: the summary (for ``increase``), then
    its adjusting documents of that ``part``."""
    pattern = re.compile(rf"summary_{what}_adjustment_(\d+)_{part}")
    base = [b.target_id for b in bindings if b.target_kind == f"summary_{what}"]
    adjusting = sorted(
        (int(m.group(1)), b.target_id)
        for b in bindings
        if (m := pattern.fullmatch(b.target_kind)) is not None
    )
    return (base if part == "increase" else []) + [t for _, t in adjusting]


def _method(monies: list[dict[str, Any]], key: str, gateway: str) -> list[str | None]:
    """The gateway's payment mode and account, as the latest contribution names them."""
    for m in reversed(monies):
        found = m.get(key, {}).get(gateway)
        if found:
            return list(found)
    return [None, None]


def _reference(label: str, day: str, currency: str, mode: str) -> str:
    """The reference of the day's summary document of ``label`` (``summary.summary_draft``)."""
    return f"{label} {day} {currency}{' (tax incl.)' if mode == 'incl' else ''}"


__all__ = ["DailyMoney"]
