"""Shopify's query cost and leaky bucket, as documented (facts doc §4.1).

* Requested cost, computed before running a query: scalars and enums cost 0,
  objects 1, a connection ``2 + first x (cost of one node)``, a list field with
  ``first`` that many times its element; mutations cost 10.
* Actual cost: the same rule applied to what the response really holds.
* The bucket holds ``maximum`` points and refills at ``restore_rate`` per second;
  a query whose requested cost exceeds what is available is throttled (and not
  charged); otherwise the requested cost is taken and the unused part refunded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)

MAX_SINGLE_QUERY_COST = 1000


def _is_list(t: Any) -> bool:
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def _first(node: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for arg in node.arguments or ():
        if arg.name.value != "first":
            continue
        if isinstance(arg.value, IntValueNode):
            return int(arg.value.value)
        if isinstance(arg.value, VariableNode):
            value = variables.get(arg.value.name.value)
            return int(value) if value is not None else None
    return None


class CostCalculator:
    def __init__(self, schema: GraphQLSchema, bulk_list_size: int = 1) -> None:
        self.schema = schema
        self.bulk_list_size = bulk_list_size

    def requested(self, document: DocumentNode, variables: Mapping[str, Any] | None = None) -> int:
        variables = variables or {}
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        cost = 0
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if definition.operation is OperationType.MUTATION:
                cost += 10
                continue
            root = self.schema.query_type
            assert root is not None
            cost += self._selection(definition.selection_set, root, fragments, variables, None)
        return cost

    def _selection(
        self,
        selection_set: SelectionSetNode | None,
        parent: Any,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        page: int | None,
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FragmentSpreadNode):
                frag = fragments[sel.name.value]
                target = self.schema.get_type(frag.type_condition.name.value)
                total += self._selection(frag.selection_set, target, fragments, variables, page)
            elif isinstance(sel, InlineFragmentNode):
                target = (
                    self.schema.get_type(sel.type_condition.name.value)
                    if sel.type_condition
                    else parent
                )
                total += self._selection(sel.selection_set, target, fragments, variables, page)
            elif isinstance(sel, FieldNode):
                total += self._field(sel, parent, fragments, variables, page)
        return total

    def _field(
        self,
        node: FieldNode,
        parent: Any,
        fragments: dict[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        page: int | None,
    ) -> int:
        name = node.name.value
        if name.startswith("__") or not hasattr(parent, "fields") or name not in parent.fields:
            return 0
        field_type = parent.fields[name].type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return 0
        first = _first(node, variables)
        if named.name.endswith("Connection"):
            size = first if first is not None else self.bulk_list_size
            inner = self._selection(node.selection_set, named, fragments, variables, size)
            return 2 + inner
        child = 1 + self._selection(node.selection_set, named, fragments, variables, None)
        if _is_list(field_type):
            size = first if first is not None else (page if page is not None else 1)
            return size * child
        return child


def actual_cost(data: Any) -> int:
    """Objects really returned: 1 each, 2 for a connection wrapper."""
    if isinstance(data, list):
        return sum(actual_cost(item) for item in data)
    if isinstance(data, dict):
        own = 2 if ("pageInfo" in data or "edges" in data) else 1
        if set(data) <= {"amount", "currencyCode"}:
            own = 1
        return own + sum(actual_cost(v) for v in data.values() if isinstance(v, dict | list))
    return 0


@dataclass
class LeakyBucket:
    """Points available to one app on one shop; refills continuously."""

    maximum: float = 1000.0
    restore_rate: float = 50.0
    clock: Callable[[], float] = time.monotonic
    _available: float = field(default=-1.0, repr=False)
    _at: float = field(default=0.0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _refill(self) -> None:
        now = self.clock()
        if self._available < 0:
            self._available, self._at = self.maximum, now
            return
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._available

    def take(self, cost: float) -> bool:
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def give_back(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + max(0.0, points))

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available(), 1),
            "restoreRate": self.restore_rate,
        }


__all__ = [
    "MAX_SINGLE_QUERY_COST",
    "CostCalculator",
    "GraphQLObjectType",
    "LeakyBucket",
    "actual_cost",
]
