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

Contacts and items are resolved first (``master_data``); each write kind's call is in
``target_calls``, the guard before an update in ``conflict_check``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..contracts.target import Target
from ..errors import (
    AuthFailed,
    NeedsMapping,
    NotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    SyncError,
    ValidationFailed,
)
from ..plan import (
    TargetRef,
)
from .adoption import Adoption
from .conflict_check import check_conflict
from .journal import SENT_OR_UNKNOWN, Batch, Journal, off_loop
from .master_data import MasterData, fill_links
from .planner import Operation, Plan, PlannedWrite
from .target_calls import Progress, TargetCalls

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
        self.master = MasterData(target, journal)  # contacts and items, cached for the run
        self.calls = TargetCalls(target, journal)
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
        await self.master.prime(p for p, _ in plans)
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
            progress = Progress()
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
        progress: Progress,
    ) -> list[tuple[PlannedWrite, str]]:
        links: dict[str, str] = {}
        if plan.writes:
            if plan.contact is not None:
                key = plan.contact.link.key
                links[key] = await self.master.resolve_contact(
                    plan.contact, plan.contact_keys, batch
                )
                self.master.share(key, links[key])
            for item in plan.items:
                links[item.link.key] = await self.master.resolve_item(item, batch)
                self.master.share(item.link.key, links[item.link.key])
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
        progress: Progress,
    ) -> str:
        existing = next((i for i in known if i.key == key), None)
        if existing is not None and existing.status in ("done", "adopted"):
            self._learn(write, links, existing.target_id)
            return "already_done"
        draft = fill_links(write.draft, links, self.master.links)
        source_id = plan.order_key.rsplit(":", 1)[-1]
        version = plan.version
        if write.operation is Operation.UPDATE_DOCUMENT:
            unrecorded = any(i.status == "pending" for i in known)
            await check_conflict(
                self.target,
                self.journal,
                self.source_wins,
                write,
                draft,
                record_id,
                source_id,
                unrecorded,
            )
        started = time.perf_counter()
        try:
            ref: TargetRef | None = None
            read = any(i.status == "pending" for i in known)
            if read:
                # An earlier call's outcome is unknown: read the target before sending.
                void = write.operation is Operation.VOID_DOCUMENT
                about = self.calls.ref(write, links) if void else None
                ref = await self.adoption.find(write, draft, batch, about)
            if ref is None:
                # Never attempted before (no intent that may have reached the target), in a
                # run whose intents can vouch for that -- or just read and found absent: the
                # target need not search before creating.
                first_attempt = read or (
                    self.trust_intents and not any(i.status in SENT_OR_UNKNOWN for i in known)
                )
                progress.sent = True
                ref = await self.calls.call(
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
        if adopted and ref is not None and ref.total is not None and "amount" in snapshot:
            # An adopted money write holds the amount the lost call sent, not the one this
            # run meant to send: the binding says what the books hold, so the difference
            # is still owed and posted later instead of counted as done.
            snapshot["amount"] = str(ref.total)
        if ref is not None and ref.last_modified is not None:
            snapshot["last_modified"] = ref.last_modified.isoformat()
        supersede = any(i.status == "pending" and i.key != key for i in known)
        batch.complete(key, scope, target_id, adopted=adopted, supersede=supersede)
        if target_id is not None:
            batch.add_binding(
                self.journal.binder.binding_row(
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


def _close_unsent(batch: Batch, writes: Keyed, begun: set[str]) -> None:
    for _, key, _ in writes:
        if key in begun and key not in batch.results:
            batch.close(key, "not_sent")
