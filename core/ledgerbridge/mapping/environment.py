"""The Jinja2 side of mapping expressions: the sandboxed environment (with its size
bounds) and what each name an expression uses means -- the static type of a chain such as
``order.customer.email``, which load-time checks and the fast path both read."""

from __future__ import annotations

import typing
from typing import Any, get_args, get_origin

from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel

from ..canonical import (
    Address,
    Customer,
    FeeLine,
    Order,
    OrderLine,
    Payment,
    Refund,
    RefundLine,
    ShippingLine,
)
from .bounds import bound_filters, check_binop, check_method, check_size


class MappingEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus size bounds (``bounds``) so one expression cannot build a huge
    value or stall a sync worker.  Intercepting an operator also keeps Jinja2 from
    folding a constant such as ``'a' * 10**9`` while it compiles."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_method(__obj, args, kwargs)
        return check_size(super().call(__context, __obj, *args, **kwargs))


ENV = MappingEnvironment(undefined=StrictUndefined, autoescape=False)
bound_filters(ENV.filters)
# Template statements a mapping may use; no ``set`` (repeated ``{% set x = x ~ x %}``
# doubles a value each time), no macros (recursion), no nested loops (a product of sizes).
TEMPLATE_STATEMENTS = (nodes.Output, nodes.If, nodes.For)

# What each name means when an expression uses it (None: a free-form mapping such as ``extra``).
NAME_TYPES: dict[str, Any] = {
    "order": Order,
    "customer": Customer,
    "line": OrderLine,
    "shipping": ShippingLine,
    "fee": FeeLine,
    "refund": Refund,
    "refund_line": RefundLine,
    "payment": Payment,
    "address": Address,
    "extra": None,
    "options": None,
}


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def attributes(model: type[BaseModel]) -> list[str]:
    names = set(model.model_fields)
    for cls in model.__mro__:
        if cls is BaseModel:
            break
        for name, value in vars(cls).items():
            if not name.startswith("_") and isinstance(value, property):
                names.add(name)
    return sorted(names)


def has_attribute(model: type[BaseModel], name: str) -> bool:
    if name in model.model_fields:
        return True
    member = getattr(model, name, None)
    return member is not None and not name.startswith("_") and not hasattr(BaseModel, name)


def resolve_type(node: nodes.Node) -> Any:
    """The static type of ``node`` when it is a chain over a known name; None when unknown."""
    if isinstance(node, nodes.Name):
        return NAME_TYPES.get(node.name)
    if isinstance(node, nodes.Getattr):
        base = resolve_type(node.node)
        if base is None or not is_model(base):
            return None
        if node.attr in base.model_fields:
            return _unwrap(base.model_fields[node.attr].annotation)
        member = getattr(base, node.attr, None)
        if isinstance(member, property) and member.fget is not None:
            try:
                hints = typing.get_type_hints(member.fget)
            except Exception:
                return None
            return _unwrap(hints.get("return"))
        return None
    if isinstance(node, nodes.Getitem):
        base = resolve_type(node.node)
        if base is not None and get_origin(base) is tuple:
            args = [a for a in get_args(base) if a is not Ellipsis]
            return _unwrap(args[0]) if args else None
        return None
    return None


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> X; keeps ``tuple[X, ...]``; anything else unchanged."""
    args = get_args(annotation)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return annotation
