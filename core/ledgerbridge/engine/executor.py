"""Carry out plans against a target, exactly once.

Targets such as Zoho Books have no idempotency key, so the executor provides
one: every write has a key (tenant, pipeline, entity, source id, operation
[, source version]).  The intent is recorded before the remote call and the
result after it; an intent found without a result (crash, lost response) makes
the executor read the target first (``adoption``) and *adopt* what the lost call
did -- finished exactly as a create would have finished it -- writing only when
it certainly did not happen.  This holds for every write kind: documents,
payments, credit-note refunds and applications, voids.

Plans run in units of work (``run_unit``): the intents of every write in the
unit are recorded in one transaction before the first call, and the results
go into a ``Batch`` the caller commits in one transaction after the last.  A
crash in between costs look-ups, never duplicates.

Contacts and items are resolved binder-first (cross-reference), then by
business key in the target, and created only when absent; resolved ids are
cached for the run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..contracts.target import Target, TargetDocument
from ..errors import (
    AuthFailed,
    Conflict,
    NeedsMapping,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    SyncError,
    ValidationFailed,
)
from ..plan import (
    ContactDraft,
    CreditApplication,
    CreditRefundDraft,
    DocumentDraft,
    DocumentKind,
    ItemDraft,
    Link,
    PaymentDraft,
    TargetRef,
)
from ..store import ConflictRecord
from .adoption import Adoption
from .journal import SENT_OR_UNKNOWN, Batch, Journal, off_loop
from .planner import Draft, Operation, Plan, PlannedWrite
from .rounding import settle_rounding

log = logging.getLogger(__name__)


# A failed call that certainly changed nothing: its intent is closed, not left pending.
DEFINITE_FAILURES = (
    RateLimited,
    ValidationFailed,
    AuthFailed,
    PermissionDenied,
    NotFound,
    NeedsMapping,
)

OnWrite = Callable[[PlannedWrite, str, str | None], None]
# What one plan of a unit came to: its (write, outcome) pairs, the error that stopped it,
# or None when the unit stopped before it started (its record is read again next time).
PlanResult = list[tuple[PlannedWrite, str]] | SyncError | None
Keyed = list[tuple[PlannedWrite, str, str]]  # (write, key, scope)


def idempotency_key(journal: Journal, write: PlannedWrite, version: str | None) -> tuple[str, str]:
    """(key, scope): the scope is the key without the source version."""
    s = journal.scope
    scope = f"{s.tenant_id}:{s.pipeline_id}:{write.entity}:{write.external_id}:{write.target_kind}"
    return (f"{scope}:{version or '-'}" if write.versioned else scope), scope


class Executor:
    def __init__(
        self,
        target: Target,
        journal: Journal,
        *,
        source_wins: bool = False,
        on_write: OnWrite | None = None,
    ) -> None:
        self.target = target
        self.journal = journal
        self.adoption = Adoption(target, journal)
        self.source_wins = source_wins
        self.on_write = on_write
        # Set by the runner when the store's intents can vouch for absence (see
        # ``PipelineRunner._decide_trust``): a write with no intent was never attempted,
        # so the target may skip its own search before creating.
        self.trust_intents = False
        self._contacts: dict[str, str] = {}
        self._items: dict[str, str] = {}
        # (entity, external) of master data the store has no binding of (see ``_prime``)
        self._unbound: set[tuple[str, str]] = set()
        # Resolved contact and item links, shared by every draft that names them.
        self._links: dict[tuple[str, str], Link] = {}
        # Names the pipeline's current tenure of its lease (set by the runner each time it
        # takes the lease): what the target read in bulk for look-ups may serve while it
        # stays the same (``Target.prepare_lookups``). Empty: each unit reads afresh.
        self.lookup_scope = ""
        # Set by the engine: refuses (raises) when the target's account is no longer bound
        # to this tenant. Awaited before each unit's first intent, so a refused unit
        # records nothing and sends nothing (``engine/tenancy.py``).
        self.before_unit: Callable[[], Awaitable[None]] | None = None

    _db = staticmethod(off_loop)

    # ----------------------------------------------------------------- plans

    async def execute(self, plan: Plan, record_id: int | None) -> list[tuple[PlannedWrite, str]]:
        """Run one plan as its own unit of work; raises the error that stopped it."""
        batch = Batch()
        try:
            [result] = await self.run_unit([(plan, record_id)], batch)
        finally:
            await self._db(self.journal.commit, batch)
        if isinstance(result, SyncError):
            raise result
        assert result is not None
        return result

    async def run_unit(
        self,
        plans: Sequence[tuple[Plan, int | None]],
        batch: Batch,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> list[PlanResult]:
        """Run the plans of one unit of work in order; results go into ``batch``.

        Every write's intent is durable before the first call.  A plan that fails
        does not stop the others; ``should_stop`` is checked between plans.
        """
        if self.before_unit is not None:
            await self.before_unit()
        keyed: list[Keyed] = [
            [(w, *idempotency_key(self.journal, w, plan.version)) for w in plan.writes]
            for plan, _ in plans
        ]
        scopes = [scope for writes in keyed for _, _, scope in writes]
        known = await self._db(self.journal.intents_in_scopes, scopes) if scopes else {}
        status = {i.key: i.status for rows in known.values() for i in rows}
        ahead = [
            (key, scope, write.operation.value, record_id)
            for (_, record_id), writes in zip(plans, keyed, strict=True)
            for write, key, scope in writes
            if status.get(key) not in ("done", "adopted")
        ]
        await self._prime(p for p, _ in plans)
        await self._db(self.journal.begin_intents, ahead)
        # Intents this unit may close as ``not_sent`` if their call never happens: never
        # one left ``pending`` by an earlier run, whose outcome is still unknown.
        begun = {key for key, *_ in ahead if status.get(key) in (None, "failed", "not_sent")}

        results: list[PlanResult] = []
        for index, ((plan, record_id), writes) in enumerate(zip(plans, keyed, strict=True)):
            if should_stop():
                for rest in keyed[index:]:
                    _close_unsent(batch, rest, begun)
                results += [None] * (len(plans) - index)
                break
            progress = _Progress()
            try:
                results.append(await self._execute(plan, record_id, writes, known, batch, progress))
            except Exception as exc:
                if not isinstance(exc, SyncError):  # a bug parks the record, never ends the unit
                    log.exception("unexpected error executing the plan of %s", plan.order_key)
                    exc = SyncError(f"internal error: {exc!r}")
                # A write whose call started keeps its intent (pending while its outcome is
                # unknown); the writes after it were never sent.
                _close_unsent(batch, writes[progress.index + (1 if progress.sent else 0) :], begun)
                results.append(exc)
        return results

    async def _execute(
        self,
        plan: Plan,
        record_id: int | None,
        writes: Keyed,
        known: dict[str, list[Any]],
        batch: Batch,
        progress: _Progress,
    ) -> list[tuple[PlannedWrite, str]]:
        links: dict[str, str] = {}
        if plan.writes:
            if plan.contact is not None:
                key = plan.contact.link.key
                links[key] = await self.resolve_contact(plan.contact, plan.contact_keys, batch)
                self._share(key, links[key])
            for item in plan.items:
                links[item.link.key] = await self.resolve_item(item, batch)
                self._share(item.link.key, links[item.link.key])
        done: list[tuple[PlannedWrite, str]] = []
        for index, (write, key, scope) in enumerate(writes):
            progress.index, progress.sent, progress.committed = index, False, False
            if write.ref is not None and write.ref.target_id:
                links[write.ref.key] = write.ref.target_id
            if write.produces is not None and write.produces.target_id:
                links[write.produces.key] = write.produces.target_id
            outcome = await self._write(
                write, key, scope, links, plan, record_id, known.get(scope, []), batch, progress
            )
            done.append((write, outcome))
        return done

    # ----------------------------------------------------------------- dependencies

    def _share(self, key: str, target_id: str) -> None:
        if (key, target_id) not in self._links:
            self._links[(key, target_id)] = Link(key=key, target_id=target_id)

    async def _prime(self, plans: Any) -> None:
        """Fill the run's caches with the bound contacts and items of a unit (one query)."""
        wanted: dict[str, list[str]] = {"customer": [], "item": []}
        for plan in plans:
            if not plan.writes:
                continue
            if plan.contact is not None:
                external = _contact_external(plan.contact)
                if external not in self._contacts:
                    wanted["customer"].append(external)
            wanted["item"] += [i.link.key for i in plan.items if i.link.key not in self._items]
        if wanted["customer"] or wanted["item"]:
            for b in await self._db(self.journal.bindings_of, wanted):
                if b.entity == "customer" and b.target_kind == "contact":
                    self._contacts[b.external_id] = b.target_id
                elif b.entity == "item" and b.target_kind == "item":
                    self._items[b.external_id] = b.target_id
        contacts = {e for e in wanted["customer"] if e not in self._contacts}
        items = {e for e in wanted["item"] if e not in self._items}
        self._unbound |= {("customer", e) for e in contacts} | {("item", e) for e in items}
        # Every unit says so, even with nothing to look up: what the target read in bulk
        # under another tenure of the lease must not answer this unit's look-ups.
        await self.target.prepare_lookups(
            contacts=len(contacts), items=len(items), scope=self.lookup_scope
        )

    async def resolve_contact(
        self, draft: ContactDraft, keys: list[tuple[str, str]], batch: Batch
    ) -> str:
        """Binding, then the target's business keys in the mapping's order, then create."""

        async def find() -> TargetRef | None:
            for kind, value in keys:
                found = None
                if kind == "email":
                    found = await self.target.find_contact(email=value, currency=draft.currency)
                elif kind in ("key", "source_id"):
                    found = await self.target.find_contact(key=value, currency=draft.currency)
                elif kind == "name" and draft.unique_name:
                    found = await self.target.find_contact(name=value, currency=draft.currency)
                if found is not None:
                    return found
            return None

        return await self._resolve(
            self._contacts, "customer", _contact_external(draft), "contact", find,
            lambda: self.target.create_contact(draft), batch,
        )  # fmt: skip

    async def resolve_item(self, draft: ItemDraft, batch: Batch) -> str:
        """Binding, then the target's item with the same SKU, then create."""

        async def find() -> TargetRef | None:
            return await self.target.find_item(sku=draft.sku) if draft.sku else None

        return await self._resolve(
            self._items, "item", draft.link.key, "item", find,
            lambda: self.target.create_item(draft), batch,
        )  # fmt: skip

    async def _resolve(
        self,
        cache: dict[str, str],
        entity: str,
        external: str,
        kind: str,
        find: Callable[[], Awaitable[TargetRef | None]],
        create: Callable[[], Awaitable[TargetRef]],
        batch: Batch,
    ) -> str:
        """Master data is found before it is created, bound, audited and cached for the run.

        Creating master data needs no intent: a lost binding is found again by
        business key, never created twice."""
        if external in cache:
            return cache[external]
        if (entity, external) not in self._unbound:  # not primed by ``_prime``: ask the store
            bound = await self._db(self.journal.binding, entity, external, kind)
            if bound is not None:
                cache[external] = str(bound.target_id)
                return cache[external]
        self._unbound.discard((entity, external))
        found = await find()
        outcome = "adopted"
        if found is None:
            found = await create()
            outcome = "created"
        batch.add_binding(self.journal.binding_row(entity, external, kind, found.target_id))
        batch.audits.append(
            self.journal.audit(
                source_id=external,
                idempotency_key=f"{kind}:{external}",
                operation=f"resolve_{kind}",
                target_id=found.target_id,
                outcome=outcome,
            )
        )
        cache[external] = found.target_id
        return found.target_id

    # ----------------------------------------------------------------- one write

    async def _write(
        self,
        write: PlannedWrite,
        key: str,
        scope: str,
        links: dict[str, str],
        plan: Plan,
        record_id: int | None,
        known: list[Any],
        batch: Batch,
        progress: _Progress,
    ) -> str:
        existing = next((i for i in known if i.key == key), None)
        if existing is not None and existing.status in ("done", "adopted"):
            self._learn(write, links, existing.target_id)
            return "already_done"
        draft = _resolve(write.draft, links, self._links)
        source_id = plan.order_key.rsplit(":", 1)[-1]
        version = plan.version
        if write.operation is Operation.UPDATE_DOCUMENT:
            unrecorded = any(i.status == "pending" for i in known)
            await self._check_conflict(write, draft, record_id, source_id, unrecorded)
        started = time.perf_counter()
        try:
            ref: TargetRef | None = None
            read = any(i.status == "pending" for i in known)
            if read:
                # An earlier call's outcome is unknown: read the target before sending.
                void = write.operation is Operation.VOID_DOCUMENT
                about = self._ref(write, links) if void else None
                ref = await self.adoption.find(write, draft, batch, about)
            if ref is None:
                # Never attempted before (no intent that may have reached the target), in a
                # run whose intents can vouch for that -- or just read and found absent: the
                # target need not search before creating.
                first_attempt = read or (
                    self.trust_intents and not any(i.status in SENT_OR_UNKNOWN for i in known)
                )
                progress.sent = True
                ref = await self._call(
                    write, draft, links, batch, progress, first_attempt=first_attempt
                )
        except SyncError as exc:
            # Only a refusal of our own call, before anything was committed, certainly
            # changed nothing (or a document we voided again at once). A failed read or
            # follow-up -- the target marks those ``details["committed"]`` -- leaves the
            # intent pending: the next attempt reads first.
            committed = progress.committed or bool(exc.details.get("committed"))
            definite = (
                isinstance(exc, DEFINITE_FAILURES)
                and ((progress.sent and not committed) or bool(exc.details.get("voided")))
                and not _while_learning_an_unknown_outcome(exc)
            )
            batch.audits.append(
                self._audit_write(
                    write, key, record_id, source_id, version,
                    outcome="failed" if definite else "unknown",
                    seconds=time.perf_counter() - started, details=exc.summary(),
                )
            )  # fmt: skip
            if definite:
                batch.close(key, "failed")
            raise
        adopted = ref is not None and ref.adopted
        self._complete(write, key, scope, ref, adopted, record_id, source_id, version,
                       time.perf_counter() - started, batch, known)  # fmt: skip
        self._learn(write, links, ref.target_id if ref else None)
        return "adopted" if adopted else "written"

    def _audit_write(
        self,
        write: PlannedWrite,
        key: str,
        record_id: int | None,
        source_id: str,
        version: str | None,
        *,
        outcome: str,
        seconds: float,
        details: dict[str, Any],
        target_id: str | None = None,
    ) -> dict[str, Any]:
        """The audit row of one remote write (or of its failed attempt)."""
        return self.journal.audit(
            record_id=record_id,
            source_id=source_id,
            source_version=version,
            idempotency_key=key,
            operation=write.operation.value,
            target_id=target_id,
            outcome=outcome,
            duration_ms=int(seconds * 1000),
            details=details,
        )

    def _learn(self, write: PlannedWrite, links: dict[str, str], target_id: str | None) -> None:
        if write.produces is not None and target_id:
            links[write.produces.key] = target_id

    def _complete(
        self,
        write: PlannedWrite,
        key: str,
        scope: str,
        ref: TargetRef | None,
        adopted: bool,
        record_id: int | None,
        source_id: str,
        version: str | None,
        seconds: float,
        batch: Batch,
        known: list[Any],
    ) -> None:
        target_id = ref.target_id if ref else (write.ref.target_id if write.ref else None)
        snapshot = dict(write.snapshot)
        if ref is not None and ref.last_modified is not None:
            snapshot["last_modified"] = ref.last_modified.isoformat()
        supersede = any(i.status == "pending" and i.key != key for i in known)
        batch.complete(key, scope, target_id, adopted=adopted, supersede=supersede)
        if target_id is not None:
            batch.add_binding(
                self.journal.binding_row(
                    write.entity, write.external_id, write.target_kind, target_id, snapshot
                )
            )
        batch.audits.append(
            self._audit_write(
                write, key, record_id, source_id, version,
                outcome="adopted" if adopted else "ok", seconds=seconds, target_id=target_id,
                details={"reason": write.reason, "number": ref.number if ref else None},
            )
        )  # fmt: skip
        if self.on_write is not None:
            on_write, outcome = self.on_write, "adopted" if adopted else "written"
            batch.after_commit.append(lambda: on_write(write, outcome, target_id))

    # ----------------------------------------------------------------- target calls

    async def _call(
        self,
        write: PlannedWrite,
        draft: Draft | None,
        links: dict[str, str],
        batch: Batch,
        progress: _Progress,
        *,
        first_attempt: bool,
    ) -> TargetRef | None:
        op = write.operation
        if op in (Operation.CREATE_DOCUMENT, Operation.CREATE_CREDIT_NOTE):
            assert isinstance(draft, DocumentDraft)
            created = await self.target.create_document(draft, first_attempt=first_attempt)
            if created.adopted and await self._bound_elsewhere(write, created.target_id, batch):
                # The search before the create found a document written for another record
                # -- e.g. the first of an order's refunds, whose credit note carries the same
                # reference: it is not this write's, so this write creates its own.
                created = await self.target.create_document(draft, first_attempt=True)
            progress.committed = True  # the follow-ups below may fail; the document exists
            return await settle_rounding(
                self.target, self.journal, created, draft, write.expected_total, batch,
                created=True,
            )  # fmt: skip
        if op is Operation.UPDATE_DOCUMENT:
            assert isinstance(draft, DocumentDraft) and write.ref is not None
            ref = await self.target.update_document(self._ref(write, links), draft)
            return await settle_rounding(
                self.target, self.journal, ref, draft, write.expected_total, batch,
                created=False,
            )  # fmt: skip
        if op is Operation.VOID_DOCUMENT:
            ref = self._ref(write, links)
            await self.target.void_document(ref)
            return ref
        if op is Operation.RECORD_PAYMENT:
            assert isinstance(draft, PaymentDraft)
            return await self.target.record_payment(draft, first_attempt=first_attempt)
        if op is Operation.REFUND_CREDIT:
            assert isinstance(draft, CreditRefundDraft)
            return await self.target.refund_credit(draft)
        if op is Operation.APPLY_CREDIT:
            assert isinstance(draft, CreditApplication)
            applied = await self.target.apply_credit(draft)
            return applied or TargetRef(
                kind="credit_application", target_id=draft.credit_note.require()
            )
        raise AssertionError(f"unknown operation {op}")  # pragma: no cover

    async def _bound_elsewhere(self, write: PlannedWrite, target_id: str, batch: Batch) -> bool:
        """Whether ``target_id`` is already bound to another source record, in this unit's
        batch or in the store."""
        mine = (write.entity, write.external_id)
        for (entity, external, kind), row in batch.bindings.items():
            if (
                kind == write.target_kind
                and row["target_id"] == target_id
                and (entity, external) != mine
            ):
                return True
        bound = await self._db(self.journal.bound_to, write.target_kind, target_id)
        return any((b.entity, b.external_id) != mine for b in bound)

    def _ref(self, write: PlannedWrite, links: dict[str, str]) -> TargetRef:
        assert write.ref is not None
        target_id = write.ref.target_id or links.get(write.ref.key)
        if target_id is None:
            raise ValidationFailed(f"{write.ref.key} has no target record to {write.operation}")
        kind = write.target_kind if write.target_kind != "void" else DocumentKind.INVOICE.value
        return TargetRef(kind=kind, target_id=target_id)

    async def _check_conflict(
        self,
        write: PlannedWrite,
        draft: Draft | None,
        record_id: int | None,
        source_id: str,
        unrecorded: bool = False,
    ) -> None:
        """Refuse to overwrite a document someone edited in the target since our last write.

        ``unrecorded``: an update of ours may have landed without its answer (a pending
        intent), so a changed ``last_modified`` may be our own write: only a payment in
        the target then stops the update, which is safe to send again."""
        bound = await self._db(
            self.journal.binding, write.entity, write.external_id, write.target_kind
        )
        if bound is None or write.ref is None or write.ref.target_id is None:
            return
        current: TargetDocument = await self.target.get_document(
            TargetRef(kind=write.target_kind, target_id=write.ref.target_id)
        )
        ours = bound.snapshot.get("last_modified")
        theirs = current.last_modified.isoformat() if current.last_modified else None
        edited = not unrecorded and ours is not None and theirs is not None and theirs != ours
        paid = (
            current.balance is not None
            and current.total is not None
            and current.balance < current.total
        )
        if not (edited or paid) or (self.source_wins and not paid):
            return
        why = "was paid in the target" if paid else "was edited in the target"
        conflict = ConflictRecord(
            tenant_id=self.journal.scope.tenant_id,
            pipeline_id=self.journal.scope.pipeline_id,
            record_id=record_id,
            entity=write.entity,
            external_id=write.external_id,
            target_id=write.ref.target_id,
            fields=sorted(current.fields) or ["document"],
            source_snapshot=draft.model_dump(mode="json") if draft is not None else {},
            target_snapshot={
                **_jsonable(current.fields),
                "last_modified": theirs,
                "total": _str(current.total),
                "balance": _str(current.balance),
            },
        )
        await self._db(self.journal.add_conflict, conflict)
        raise Conflict(
            f"{write.target_kind} {write.ref.target_id} {why} since our last write "
            f"(ours {ours}, now {theirs}); the source changed too. Resolve with "
            "`ledgerbridge conflicts resolve ID --keep source|target`",
            details={"conflict_id": conflict.id},
        )


@dataclass
class _Progress:
    """How far a plan got: writes before ``index`` are finished; ``sent`` says whether
    the call of write ``index`` started (and so may have reached the target)."""

    index: int = 0
    sent: bool = False
    committed: bool = False  # the call of write ``index`` certainly wrote its record


def _while_learning_an_unknown_outcome(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while a target read back a write whose outcome was
    unknown (it is chained to that ``OutcomeUnknown``): a refusal of the *read* says
    nothing about the write, whose intent must stay pending."""
    seen = exc.__context__
    while seen is not None:
        if isinstance(seen, OutcomeUnknown):
            return True
        seen = seen.__context__
    return False


def _contact_external(draft: ContactDraft) -> str:
    """One contact per currency: a target contact has a single currency."""
    return f"{draft.link.key}|{draft.currency or ''}"


def _close_unsent(batch: Batch, writes: Keyed, begun: set[str]) -> None:
    for _, key, _ in writes:
        if key in begun and key not in batch.results:
            batch.close(key, "not_sent")


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    import json

    return dict(json.loads(json.dumps(fields, default=str)))


def _resolve(
    draft: Draft | None, links: dict[str, str], shared: dict[tuple[str, str], Link]
) -> Draft | None:
    """Fill every link of a draft with the target id resolved so far (copies only what
    changes). ``shared``: resolved contact and item links, reused from order to order."""
    if draft is None:
        return None

    def fill(link: Link | None) -> Link | None:
        if link is None or link.target_id is not None:
            return link
        target_id = links.get(link.key)
        if not target_id:
            return link
        return shared.get((link.key, target_id)) or link.resolved(target_id)

    if isinstance(draft, DocumentDraft):
        lines = tuple(
            line.model_copy(update={"item": item})
            if line.item is not None and (item := fill(line.item)) is not line.item
            else line
            for line in draft.lines
        )
        return draft.model_copy(
            update={"contact": fill(draft.contact), "against": fill(draft.against), "lines": lines}
        )
    if isinstance(draft, PaymentDraft):
        applied = tuple((fill(link) or link, amount) for link, amount in draft.applied_to)
        return draft.model_copy(update={"contact": fill(draft.contact), "applied_to": applied})
    if isinstance(draft, CreditApplication):
        return draft.model_copy(
            update={"credit_note": fill(draft.credit_note), "document": fill(draft.document)}
        )
    return draft.model_copy(update={"credit_note": fill(draft.credit_note)})
