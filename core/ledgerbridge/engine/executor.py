"""Carry out a plan against a target, exactly once.

Targets such as Zoho Books have no idempotency key, so the executor provides
one: every write has a key (tenant, pipeline, entity, source id, operation
[, source version]).  The intent is recorded before the remote call and the
result after it; an intent found without a result (crash, lost response) makes
the executor look the record up in the target by business key and *adopt* it,
writing only when it is truly absent.

Contacts and items are resolved binder-first (cross-reference), then by
business key in the target, and created only when absent; resolved ids are
cached for the run.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
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
from .journal import Journal, off_loop
from .planner import Draft, Operation, Plan, PlannedWrite

# A target/source gap above this is a mapping problem, not tax rounding.
ROUNDING_CEILING = Decimal("0.10")

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
        self.source_wins = source_wins
        self.on_write = on_write
        self._contacts: dict[str, str] = {}
        self._items: dict[str, str] = {}

    _db = staticmethod(off_loop)

    async def _bound_id(self, entity: str, external_id: str, kind: str) -> str | None:
        bound = await self._db(self.journal.binding, entity, external_id, kind)
        return None if bound is None else str(bound.target_id)

    # ----------------------------------------------------------------- plan

    async def execute(self, plan: Plan, record_id: int | None) -> list[tuple[PlannedWrite, str]]:
        """Run every write of ``plan``; returns (write, outcome) pairs."""
        links: dict[str, str] = {}
        if plan.writes:
            if plan.contact is not None:
                links[plan.contact.link.key] = await self.resolve_contact(
                    plan.contact, plan.contact_keys
                )
            for item in plan.items:
                links[item.link.key] = await self.resolve_item(item)
        done: list[tuple[PlannedWrite, str]] = []
        for write in plan.writes:
            if write.ref is not None and write.ref.target_id:
                links[write.ref.key] = write.ref.target_id
            if write.produces is not None and write.produces.target_id:
                links[write.produces.key] = write.produces.target_id
            outcome = await self._write(write, links, plan.version, record_id, plan.order_key)
            done.append((write, outcome))
        return done

    # ----------------------------------------------------------------- dependencies

    async def resolve_contact(self, draft: ContactDraft, keys: list[tuple[str, str]]) -> str:
        """Binding, then the target's business keys in the mapping's order, then create."""

        async def find() -> TargetRef | None:
            for kind, value in keys:
                found = None
                if kind == "email":
                    found = await self.target.find_contact(email=value)
                elif kind in ("key", "source_id"):
                    found = await self.target.find_contact(key=value)
                if found is not None:
                    return found
            return None

        # One contact per currency: a target contact has a single currency.
        external = f"{draft.link.key}|{draft.currency or ''}"
        return await self._resolve(
            self._contacts, "customer", external, "contact", find,
            lambda: self.target.create_contact(draft),
        )  # fmt: skip

    async def resolve_item(self, draft: ItemDraft) -> str:
        """Binding, then the target's item with the same SKU, then create."""

        async def find() -> TargetRef | None:
            return await self.target.find_item(sku=draft.sku) if draft.sku else None

        return await self._resolve(
            self._items, "item", draft.link.key, "item", find,
            lambda: self.target.create_item(draft),
        )  # fmt: skip

    async def _resolve(
        self,
        cache: dict[str, str],
        entity: str,
        external: str,
        kind: str,
        find: Callable[[], Awaitable[TargetRef | None]],
        create: Callable[[], Awaitable[TargetRef]],
    ) -> str:
        """Master data is found before it is created, bound, audited and cached for the run."""
        if external in cache:
            return cache[external]
        bound = await self._bound_id(entity, external, kind)
        if bound is not None:
            cache[external] = bound
            return bound
        found = await find()
        outcome = "adopted"
        if found is None:
            found = await create()
            outcome = "created"
        await self._db(
            self.journal.bind, self.journal.make_binding(entity, external, kind, found.target_id)
        )
        await self._db(
            self.journal.add_audit,
            self.journal.audit(
                source_id=external,
                idempotency_key=f"{kind}:{external}",
                operation=f"resolve_{kind}",
                target_id=found.target_id,
                outcome=outcome,
            ),
        )
        cache[external] = found.target_id
        return found.target_id

    # ----------------------------------------------------------------- one write

    async def _write(
        self,
        write: PlannedWrite,
        links: dict[str, str],
        version: str | None,
        record_id: int | None,
        order_key: str,
    ) -> str:
        key, scope = idempotency_key(self.journal, write, version)
        known = await self._db(self.journal.intents_in_scope, scope)
        existing = next((i for i in known if i.key == key), None)
        if existing is not None and existing.status in ("done", "adopted"):
            self._learn(write, links, existing.target_id)
            return "already_done"
        draft = _resolve(write.draft, links)
        source_id = order_key.rsplit(":", 1)[-1]

        pending = [i for i in known if i.status == "pending"]
        if pending:
            adopted = await self._adopt(write, draft, links)
            if adopted is not None:
                await self._complete(
                    write, key, scope, adopted, True, record_id, source_id, version, 0.0
                )
                self._learn(write, links, adopted.target_id)
                return "adopted"

        if write.operation is Operation.UPDATE_DOCUMENT:
            await self._check_conflict(write, draft, record_id, source_id)

        await self._db(self.journal.begin_intent, key, scope, write.operation.value, record_id)
        started = time.perf_counter()
        try:
            ref = await self._call(write, draft, links)
        except SyncError as exc:
            definite = isinstance(exc, DEFINITE_FAILURES)
            await self._db(
                self.journal.add_audit,
                self.journal.audit(
                    record_id=record_id,
                    source_id=source_id,
                    source_version=version,
                    idempotency_key=key,
                    operation=write.operation.value,
                    outcome="failed" if definite else "unknown",
                    duration_ms=int((time.perf_counter() - started) * 1000),
                    details=exc.summary(),
                ),
            )
            if definite:
                await self._db(self.journal.fail_intent, key)
            raise
        await self._complete(
            write,
            key,
            scope,
            ref,
            False,
            record_id,
            source_id,
            version,
            time.perf_counter() - started,
        )
        self._learn(write, links, ref.target_id if ref else None)
        return "written"

    def _learn(self, write: PlannedWrite, links: dict[str, str], target_id: str | None) -> None:
        if write.produces is not None and target_id:
            links[write.produces.key] = target_id

    async def _complete(
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
    ) -> None:
        target_id = ref.target_id if ref else (write.ref.target_id if write.ref else None)
        snapshot = dict(write.snapshot)
        if ref is not None and ref.last_modified is not None:
            snapshot["last_modified"] = ref.last_modified.isoformat()
        binding = None
        if target_id is not None:
            binding = self.journal.make_binding(
                write.entity, write.external_id, write.target_kind, target_id, snapshot
            )
        audit = self.journal.audit(
            record_id=record_id,
            source_id=source_id,
            source_version=version,
            idempotency_key=key,
            operation=write.operation.value,
            target_id=target_id,
            outcome="adopted" if adopted else "ok",
            duration_ms=int(seconds * 1000),
            details={"reason": write.reason, "number": ref.number if ref else None},
        )
        await self._db(
            self.journal.complete_intent,
            key,
            target_id=target_id,
            adopted=adopted,
            binding=binding,
            audit=audit,
            settle_scope=scope,
        )
        if self.on_write is not None:
            self.on_write(write, "adopted" if adopted else "written", target_id)

    # ----------------------------------------------------------------- target calls

    async def _call(
        self, write: PlannedWrite, draft: Draft | None, links: dict[str, str]
    ) -> TargetRef | None:
        op = write.operation
        if op in (Operation.CREATE_DOCUMENT, Operation.CREATE_CREDIT_NOTE):
            assert isinstance(draft, DocumentDraft)
            created = await self.target.create_document(draft)
            return await self._settle_rounding(created, draft, write.expected_total, created=True)
        if op is Operation.UPDATE_DOCUMENT:
            assert isinstance(draft, DocumentDraft) and write.ref is not None
            ref = await self.target.update_document(self._ref(write, links), draft)
            return await self._settle_rounding(ref, draft, write.expected_total, created=False)
        if op is Operation.VOID_DOCUMENT:
            ref = self._ref(write, links)
            await self.target.void_document(ref)
            return ref
        if op is Operation.RECORD_PAYMENT:
            assert isinstance(draft, PaymentDraft)
            return await self.target.record_payment(draft)
        if op is Operation.REFUND_CREDIT:
            assert isinstance(draft, CreditRefundDraft)
            return await self.target.refund_credit(draft)
        if op is Operation.APPLY_CREDIT:
            assert isinstance(draft, CreditApplication)
            await self.target.apply_credit(draft)
            return TargetRef(kind="credit_application", target_id=draft.credit_note.require())
        raise AssertionError(f"unknown operation {op}")  # pragma: no cover

    async def _settle_rounding(
        self, ref: TargetRef, draft: DocumentDraft, expected: Decimal | None, *, created: bool
    ) -> TargetRef:
        """Make the document total equal the source's to the cent.

        Platforms round tax per line or per document; when the target's own
        arithmetic lands a few cents off the source total, the difference goes
        into the document's rounding adjustment (one more call, only then).
        A larger gap is not rounding but a mapping problem (e.g. a discount the
        source applied after tax): a document just created with wrong totals is
        voided at once -- never left open in the books -- and the record is parked.
        """
        if expected is None or ref.total is None or ref.total == expected:
            return ref
        gap = expected - ref.total
        if abs(gap) > ROUNDING_CEILING:
            voided = False
            if created and draft.kind is not DocumentKind.SALES_RECEIPT:
                await self.target.void_document(ref)
                voided = True
            raise ValidationFailed(
                f"{draft.kind.value} {ref.number or ref.target_id} totals {ref.total} in the "
                f"target but {expected} at the source; a difference of {gap} is not rounding"
                f"{' (the document was voided)' if voided else ''}. Check the mapping: a tax "
                "rate that differs between source and target, or a discount applied before/after "
                "tax differently than the source did",
                details={"target_id": ref.target_id, "difference": str(gap), "voided": voided},
            )
        fixed = draft.model_copy(
            update={
                "adjustment": (draft.adjustment or Decimal(0)) + gap,
                "adjustment_description": draft.adjustment_description
                or "Rounding difference (tax rounded per line at the source)",
            }
        )
        corrected = await self.target.update_document(ref, fixed)
        await self._db(
            self.journal.add_audit,
            self.journal.audit(
                source_id=draft.key.source_key,
                idempotency_key=f"rounding:{ref.target_id}",
                operation="rounding_adjustment",
                target_id=ref.target_id,
                outcome="ok",
                details={"difference": str(gap), "expected": str(expected)},
            ),
        )
        return corrected

    def _ref(self, write: PlannedWrite, links: dict[str, str]) -> TargetRef:
        assert write.ref is not None
        target_id = write.ref.target_id or links.get(write.ref.key)
        if target_id is None:
            raise ValidationFailed(f"{write.ref.key} has no target record to {write.operation}")
        kind = write.target_kind if write.target_kind != "void" else DocumentKind.INVOICE.value
        return TargetRef(kind=kind, target_id=target_id)

    async def _adopt(
        self, write: PlannedWrite, draft: Draft | None, links: dict[str, str]
    ) -> TargetRef | None:
        """After an unknown outcome: find what the lost call may have created."""
        op = write.operation
        if op in (Operation.CREATE_DOCUMENT, Operation.CREATE_CREDIT_NOTE):
            assert isinstance(draft, DocumentDraft)
            found = await self.target.find_document(draft.kind, draft.key)
            return found.ref if found else None
        if op is Operation.RECORD_PAYMENT:
            assert isinstance(draft, PaymentDraft)
            try:
                return await self.target.find_payment(draft.key)
            except NotImplementedError:
                raise OutcomeUnknown(
                    f"a payment for {draft.key.source_key} may have been recorded before a crash "
                    f"and {type(self.target).__name__} cannot look payments up; check the target, "
                    "then replay"
                ) from None
        if op in (Operation.REFUND_CREDIT, Operation.APPLY_CREDIT):
            credit_note_id = (
                draft.credit_note.target_id
                if isinstance(draft, CreditRefundDraft | CreditApplication)
                else None
            )
            if credit_note_id is None or write.expect_balance_after is None:
                return None
            doc = await self.target.get_document(
                TargetRef(kind=DocumentKind.CREDIT_NOTE.value, target_id=credit_note_id)
            )
            if doc.balance is not None and doc.balance <= write.expect_balance_after:
                return TargetRef(kind=write.target_kind, target_id=credit_note_id)
            return None
        return None  # updates and voids are safe to repeat

    async def _check_conflict(
        self, write: PlannedWrite, draft: Draft | None, record_id: int | None, source_id: str
    ) -> None:
        """Refuse to overwrite a document someone edited in the target since our last write."""
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
        edited = ours is not None and theirs is not None and theirs != ours
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


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    import json

    return dict(json.loads(json.dumps(fields, default=str)))


def _resolve(draft: Draft | None, links: dict[str, str]) -> Draft | None:
    """Fill every link of a draft with the target id resolved so far."""
    if draft is None:
        return None

    def fill(link: Link | None) -> Link | None:
        if link is None or link.target_id is not None:
            return link
        target_id = links.get(link.key)
        return link.resolved(target_id) if target_id else link

    if isinstance(draft, DocumentDraft):
        lines = tuple(
            line.model_copy(update={"item": fill(line.item)}) if line.item else line
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
