"""The mapping expression language: sandboxed Jinja2 expressions over canonical objects.

Why Jinja2 (``ImmutableSandboxedEnvironment`` + ``StrictUndefined``): it is already
a dependency, integrators know its syntax from Ansible/dbt, its sandbox forbids
private attributes and mutation (no arbitrary Python), ``StrictUndefined`` turns a
missing value into an error instead of an empty string, and its parser gives us
an AST -- so every expression is compiled *and* its names and attribute chains
are checked against the canonical model when the file is loaded, not in the
middle of a sync.

Two forms:

* an **expression** (``order.number``, ``order.customer.email | lower``) returns
  the value itself (a Decimal stays a Decimal, a bool stays a bool);
* a **template** -- any text containing ``{{`` or ``{%`` -- renders to a string
  (``"Shopify order {{ order.number }}"``).
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, get_args, get_origin

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
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
from ..errors import SourceLocation, ValidationFailed

MAX_EXPONENT = 64


class MappingEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus a bound on ``**`` so one expression cannot stall a sync worker."""

    intercepted_binops = frozenset({"**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float | Decimal) and abs(Decimal(right)) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
            return left**right
        return super().call_binop(context, operator, left, right)


ENV = MappingEnvironment(undefined=StrictUndefined, autoescape=False)

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

# Scopes: which names an expression may use, by where it sits in the mapping.
ORDER_SCOPE = frozenset({"order", "customer", "extra", "options"})
LINE_SCOPE = ORDER_SCOPE | {"line"}
SHIPPING_SCOPE = ORDER_SCOPE | {"shipping"}
FEE_SCOPE = ORDER_SCOPE | {"fee"}
REFUND_SCOPE = ORDER_SCOPE | {"refund"}
REFUND_LINE_SCOPE = REFUND_SCOPE | {"refund_line"}
PAYMENT_SCOPE = ORDER_SCOPE | {"payment"}
ALWAYS = frozenset({"lookup"})


class ExpressionFailed(ValidationFailed):
    """An expression raised while evaluating one record (e.g. a value was missing).

    The record is parked (``failed``) with the mapping key, file position and
    the expression text; the run goes on.
    """


@dataclass
class Expression:
    """One compiled expression or template, with where it came from."""

    source: str
    scope: frozenset[str]
    is_template: bool
    _run: Callable[[dict[str, Any]], Any] = field(repr=False)
    lookup_tables: tuple[tuple[str, int], ...] = ()
    where: str = ""
    location: SourceLocation | None = None

    def evaluate(self, names: dict[str, Any]) -> Any:
        try:
            return self._run(names)
        except (
            TemplateError,
            TypeError,
            ValueError,
            ArithmeticError,
            AttributeError,
            LookupError,
        ) as exc:
            at = f"{self.location}: " if self.location else ""
            raise ExpressionFailed(
                f"{at}mapping {self.where or 'expression'} `{self.source}` failed: {exc}",
                details={"expression": self.source, "key": self.where},
            ) from exc

    def __str__(self) -> str:
        return self.source


def compile_expression(source: Any, scope: frozenset[str]) -> Expression:
    """Compile and statically check ``source``; ``ValueError`` says what is wrong.

    Checks: syntax; every name is allowed here; every attribute chain on a
    canonical object names a real field (``order.numbr`` -> did you mean 'number'?).
    """
    if isinstance(source, bool | int) or source is None:
        value = source
        return Expression(repr(source), scope, False, lambda _names: value)
    if not isinstance(source, str):
        # Decimals and other plain YAML scalars are constants.
        constant = source
        return Expression(str(source), scope, False, lambda _names: constant)
    text = source.strip()
    if not text:
        raise ValueError("empty expression")
    is_template = "{{" in text or "{%" in text
    try:
        tree = ENV.parse(text if is_template else "{{ (" + text + ") }}")
    except TemplateSyntaxError as exc:
        raise ValueError(f"invalid expression `{text}`: {exc.message}") from None
    allowed = scope | ALWAYS
    unknown = sorted(meta.find_undeclared_variables(tree) - allowed)
    if unknown:
        names = ", ".join(sorted(scope))
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ValueError(
            f"unknown name {', '.join(hints)} in `{text}`; here an expression can use: {names}"
        )
    _check_attributes(tree, text)
    tables = tuple(_lookup_tables(tree))
    if is_template:
        template = ENV.from_string(text)

        def run(names: dict[str, Any]) -> Any:
            return template.render(**names)

    else:
        compiled = ENV.compile_expression(text, undefined_to_none=False)

        def run(names: dict[str, Any]) -> Any:
            result = compiled(**names)
            if isinstance(result, StrictUndefined):
                str(result)  # raises UndefinedError naming what is missing
            return result

    return Expression(text, scope, is_template, run, tables)


def _lookup_tables(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    """Table names used as ``lookup('name', key)`` with a constant name (checked at load)."""
    for call in tree.find_all(nodes.Call):
        if (
            isinstance(call.node, nodes.Name)
            and call.node.name == "lookup"
            and call.args
            and isinstance(call.args[0], nodes.Const)
        ):
            yield str(call.args[0].value), call.lineno


def _check_attributes(tree: nodes.Template, text: str) -> None:
    for node in tree.find_all(nodes.Getattr):
        base = _resolve(node.node)
        if base is None or not _is_model(base):
            continue
        if not _has_attribute(base, node.attr):
            known = _attributes(base)
            close = difflib.get_close_matches(node.attr, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"`{text}`: {base.__name__} has no field {node.attr!r}{hint}; "
                f"fields: {', '.join(known)}"
            )


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _attributes(model: type[BaseModel]) -> list[str]:
    names = set(model.model_fields)
    for cls in model.__mro__:
        if cls is BaseModel:
            break
        for name, value in vars(cls).items():
            if not name.startswith("_") and isinstance(value, property):
                names.add(name)
    return sorted(names)


def _has_attribute(model: type[BaseModel], name: str) -> bool:
    if name in model.model_fields:
        return True
    member = getattr(model, name, None)
    return member is not None and not name.startswith("_") and not hasattr(BaseModel, name)


def _resolve(node: nodes.Node) -> Any:
    """The static type of ``node`` when it is a chain over a known name; None when unknown."""
    if isinstance(node, nodes.Name):
        return NAME_TYPES.get(node.name)
    if isinstance(node, nodes.Getattr):
        base = _resolve(node.node)
        if base is None or not _is_model(base):
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
        base = _resolve(node.node)
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
