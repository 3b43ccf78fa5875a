"""What a dry run adds to planning: the organisation's answers, read once per run.

The planner is pure (``planner.py``) and a dry run plans through it exactly as a real run
does.  What planning cannot know is whether the ids a plan names -- taxes, accounts,
payment modes, currencies -- and the custom fields its drafts carry exist in the
organisation; a real run learns that from a refused write, once per order.  A dry run
asks once: each kind of master data the mapping names is listed once
(``Target.lookups``, the look-ups ``mappings validate --against`` makes), the
connection's setup is checked once (``Target.verify_setup``), and every plan is then
checked against those answers in memory.  Reads only: the target is never written to,
and the number of target calls does not grow with the number of orders.

``ReadOnlyCredentials`` keeps a dry run off the store: an access token it has to mint
stays in memory instead of being saved over the connection's secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ..canonical import Order
from ..contracts.context import CredentialStore
from ..contracts.target import FieldNeed, SetupProblem, Target
from ..errors import NeedsMapping, NotFound
from ..plan import LookupEntry, LookupKind

__all__ = ["Preflight", "ReadOnlyCredentials"]


class ReadOnlyCredentials:
    """A connection's secrets read from the store; what a dry run saves stays in memory."""

    def __init__(self, inner: CredentialStore) -> None:
        self.inner = inner
        self.saved: dict[str, str] = {}

    async def load(self, name: str) -> str | None:
        if name in self.saved:
            return self.saved[name]
        return await self.inner.load(name)

    async def save(self, name: str, value: str) -> None:
        self.saved[name] = value


@dataclass(frozen=True)
class _Problem:
    """Something the organisation lacks that a plan's writes would need."""

    missing: str  # the mapping key (or setting) to set: the advice
    message: str


class Preflight:
    """One run's check of plans against the target organisation (``load`` once, then
    ``check`` per plan, raising the ``NeedsMapping`` the record would park with)."""

    def __init__(self, runtime: Any, target: Target, connection: str) -> None:
        self.runtime = runtime
        self.target = target
        self.connection = connection
        self.loaded = False
        self.ids: dict[str, _Problem] = {}  # an id (or code) the organisation lacks
        self.fields: dict[str, _Problem] = {}  # a custom field it lacks, by API name
        self.setup: list[_Problem] = []  # the connection's own settings: every write

    async def load(self) -> None:
        """The organisation's master data the mapping names, each kind listed once."""
        if self.loaded:
            return
        from ..mapping.against import field_needs, matches

        references = list(getattr(self.runtime, "references", []))
        known: dict[LookupKind, list[LookupEntry] | None] = {}
        for kind in sorted({k for ref in references for k in ref.kinds}):
            try:
                known[kind] = await self.target.lookups(kind)
            except NotFound:  # the target cannot list this kind: its ids are not checked
                known[kind] = None
        for ref in references:
            lists = [known.get(kind) for kind in ref.kinds]
            if any(entries is None for entries in lists):
                continue
            if any(matches(ref.value, e) for entries in lists for e in entries or ()):
                continue
            what = " or ".join(k.value.replace("_", " ") for k in ref.kinds)
            self.ids.setdefault(
                ref.value,
                _Problem(
                    ref.where,
                    f"{ref.where} names {ref.value!r} ({ref.location}), which is not among "
                    f"the organisation's {what}: the target would refuse the write "
                    f"(ledgerbridge mappings validate --against {self.connection} lists "
                    "what it has)",
                ),
            )
        needs: list[FieldNeed] = [need for need, _ in field_needs(self.runtime)]
        by_where = {need.where: need for need in needs}
        for problem in await self.target.verify_setup(needs):
            self._setup_problem(problem, by_where.get(problem.where))
        self.loaded = True

    def _setup_problem(self, problem: SetupProblem, need: FieldNeed | None) -> None:
        text = f"{problem.message}; {problem.fix}" if problem.fix else problem.message
        if need is not None:
            missing = (
                f"connection {self.connection}: settings.custom_fields listing {need.name} "
                f"(once created in the organisation), or {need.where}: null in the mapping"
            )
            self.fields.setdefault(need.name, _Problem(missing, text))
        else:
            self.setup.append(_Problem(f"connection {self.connection}: {problem.where}", text))

    def check(self, order: Order, plan: Any) -> None:
        """Raise what ``plan`` would park with in the target, if anything."""
        if not plan.writes or not (self.ids or self.fields or self.setup):
            return
        values: set[str] = set()
        keys: set[str] = set()
        models = [w.draft for w in plan.writes] + [plan.contact, *plan.items]
        for model in models:
            if isinstance(model, BaseModel):
                _collect(model.model_dump(mode="json"), values, keys)
        found = [self.ids[v] for v in sorted(values & self.ids.keys())]
        found += [self.fields[k] for k in sorted(keys & self.fields.keys())]
        found += self.setup
        if found:
            first = found[0]
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise NeedsMapping(
                f"order {order.number}: {first.message}{more}", missing=first.missing
            )


def _collect(value: Any, values: set[str], keys: set[str]) -> None:
    values.update(_walk(value, keys))


def _walk(value: Any, keys: set[str]) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            keys.add(str(key))
            yield from _walk(inner, keys)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, keys)
    elif isinstance(value, str):
        yield value
