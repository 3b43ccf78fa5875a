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
import operator
import types
import typing
from collections import deque
from collections.abc import Callable, Iterator, MutableMapping, MutableSequence, MutableSet
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, get_args, get_origin

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser
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
from .bounds import MAX_LENGTH, bound_filters, check_binop, check_method, check_size


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
    fast: bool = False  # evaluated in plain Python (see ``_fast``), not through Jinja2

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
            RuntimeError,  # Jinja's own globals: cycler() with no items
        ) as exc:
            at = f"{self.location}: " if self.location else ""
            raise ExpressionFailed(
                f"{at}mapping {self.where or 'expression'} `{self.source}` failed: {exc}",
                details={"expression": self.source, "key": self.where},
            ) from exc

    def __str__(self) -> str:
        return self.source


def compile_expression(source: Any, scope: frozenset[str], *, fast: bool = True) -> Expression:
    """Compile and statically check ``source``; ``ValueError`` says what is wrong.

    Jinja2 folds the constant parts of an expression while compiling it, so a constant
    the sandbox refuses (``(13)['__class__'] or x``) fails at compile time with a
    ``TemplateError``: that is reported as the ``ValueError`` of an invalid expression.
    """
    try:
        return _compile(source, scope, fast=fast)
    except TemplateError as exc:
        raise ValueError(f"invalid expression `{str(source).strip()}`: {exc}") from None


def _compile(source: Any, scope: frozenset[str], *, fast: bool) -> Expression:
    """``compile_expression`` itself.

    Checks: syntax; every name is allowed here; every attribute chain on a
    canonical object names a real field (``order.numbr`` -> did you mean 'number'?).

    With ``fast`` (the default) an expression or template that only reads
    fields of canonical objects (see ``_fast``) is evaluated in plain Python,
    with the same results and the same errors as Jinja2; ``fast=False``
    always goes through Jinja2 (tests compare the two).
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
    _check_statements(tree, text)
    _check_constants(tree, text)
    tables = tuple(_lookup_tables(tree))
    if is_template:
        template = ENV.from_string(text)
        fast_render = _fast_template(tree) if fast else None

        def render(names: dict[str, Any]) -> Any:
            # counted while it renders: a loop cannot build more than the bound
            parts, size = [], 0
            for part in template.generate(**names):
                size += len(part)
                if size > MAX_LENGTH:
                    raise SecurityError(f"the template renders more than {MAX_LENGTH} characters")
                parts.append(part)
            return "".join(parts)

        return Expression(
            text, scope, True, fast_render or render, tables, fast=fast_render is not None
        )

    compiled = ENV.compile_expression(text, undefined_to_none=False)
    # The very tree compile_expression compiled (``tree`` above wraps it in ``{{ ( ) }}``).
    fast_evaluate = _fast(Parser(ENV, text, state="variable").parse_expression()) if fast else None

    def evaluate(names: dict[str, Any]) -> Any:
        return compiled(**names)

    return Expression(
        text,
        scope,
        False,
        _strict(fast_evaluate or evaluate),
        tables,
        fast=fast_evaluate is not None,
    )


def _strict(evaluate: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """An expression's value; a value that is undefined raises, naming what is missing."""

    def run(names: dict[str, Any]) -> Any:
        result = evaluate(names)
        if isinstance(result, StrictUndefined):
            str(result)  # raises UndefinedError naming what is missing
        return check_size(result)

    return run


def _check_statements(tree: nodes.Template, text: str) -> None:
    """Only ``{% if %}`` and (not nested) ``{% for %}`` in a template."""
    for node in tree.find_all(nodes.Stmt):
        if not isinstance(node, TEMPLATE_STATEMENTS):
            raise ValueError(
                f"`{text}`: a mapping template may use only {{% if %}} and {{% for %}} "
                f"statements (found {type(node).__name__.lower()})"
            )
        if isinstance(node, nodes.For) and any(True for _ in node.find_all(nodes.For)):
            raise ValueError(f"`{text}`: loops inside loops are not allowed in a mapping template")


def _check_constants(tree: nodes.Template, text: str) -> None:
    """Operations on constants are computed now, under the same bounds as at run time,
    so ``'a' * 10**9`` is a load-time error, not a gigabyte in the middle of a sync."""
    for node in tree.find_all(nodes.BinExpr):
        try:
            _constant(node)
        except (SecurityError, ArithmeticError, TypeError, ValueError) as exc:
            raise ValueError(f"`{text}`: {exc}") from None


def _constant(node: nodes.Node) -> Any:
    """The value of a constant (sub)expression; ``_MISSING`` when it is not constant."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg | nodes.Pos):
        inner = _constant(node.node)
        if inner is _MISSING or not isinstance(inner, int | float | Decimal):
            return _MISSING
        return -inner if isinstance(node, nodes.Neg) else inner
    if isinstance(node, nodes.And | nodes.Or):  # short-circuit logic, no binop to fold
        return _MISSING
    if isinstance(node, nodes.BinExpr):
        left, right = _constant(node.left), _constant(node.right)
        if left is _MISSING or right is _MISSING:
            return _MISSING
        return ENV.call_binop(None, node.operator, left, right)
    return _MISSING


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


# --------------------------------------------------------------------------- the fast path
#
# Most mapping expressions only read fields: ``order.number``, ``line.title``,
# ``order.processed_at or order.created_at``, ``"Order {{ order.number }}"``.
# Through Jinja2 each evaluation builds a template context and passes every
# attribute through the sandbox's checks (~15 us); read directly it costs well
# under one.  ``_fast`` compiles such an expression to plain Python closures
# that do exactly what the code Jinja2 generates for it does:
#
# * names are read from the evaluation's names (a missing one is Jinja2's
#   ``undefined(name=...)``, which fails when used);
# * an attribute is read directly only where the static type of the object is a
#   canonical model (``_resolve``), the attribute is one of its fields or
#   properties and the object at run time is exactly of that type -- for such an
#   object and attribute the sandbox's own checks always allow the read.  Any
#   other object (None in ``order.customer.email``, a subclass, ...) goes
#   through the sandbox's ``getattr`` itself, so a gap in a chain gives the same
#   ``StrictUndefined`` and the same error message;
# * ``or``/``and``/``not``, comparisons, ``~``, ``a if b else c`` and literals
#   are the Python operators Jinja2 compiles them to (none is intercepted by
#   the sandbox); template output is ``str(value)``, as Jinja2 renders it.
#
# Everything else -- filters, tests, calls (``lookup``), subscripts, arithmetic,
# ``extra``/``options`` (free-form mappings), private names -- stays on Jinja2.

Evaluator = Callable[[dict[str, Any]], Any]

_MISSING = object()
_KNOWN_MUTABLE = (MutableSet, MutableMapping, MutableSequence, deque)
_METHOD_TYPES = (types.MethodType, types.BuiltinMethodType)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "in": lambda left, right: left in right,
    "notin": lambda left, right: left not in right,
}


def _is_canonical_model(tp: Any) -> bool:
    """A canonical model class whose instances the sandbox reads like any plain object."""
    return (
        _is_model(tp)
        and tp.__module__.startswith("ledgerbridge.canonical.")
        and not issubclass(tp, _KNOWN_MUTABLE)
    )


def _is_field(model: type[BaseModel], name: str) -> bool:
    """``name`` is a public field or property of ``model`` (not a method, not private)."""
    if name.startswith("_"):
        return False
    if name in model.model_fields:
        return True
    return isinstance(getattr(model, name, None), property)


def _read(obj: Any, model: Any, attr: str) -> Any:
    """``obj.attr`` exactly as ``ENV.getattr`` reads it.

    For an object of exactly the type proven at load time, the sandbox's checks
    are skipped: for a public field or property of a canonical model they always
    pass.  What is left is ``SandboxedEnvironment.getattr`` itself.
    """
    if type(obj) is not model:
        return ENV.getattr(obj, attr)
    try:
        value = getattr(obj, attr)
    except AttributeError:
        try:
            return obj[attr]  # as the sandbox tries next
        except (TypeError, LookupError):
            return ENV.undefined(obj=obj, name=attr)
    if isinstance(value, _METHOD_TYPES):  # never a field's value; the sandbox wraps str.format
        return ENV.wrap_str_format(value) or value
    return value


def _fast_chain(node: nodes.Expr) -> Evaluator | None:
    """``name.a.b`` where ``name`` and each object read from is a canonical model."""
    steps: list[tuple[type, str]] = []
    while isinstance(node, nodes.Getattr):
        base = _resolve(node.node)
        if not _is_canonical_model(base) or not _is_field(base, node.attr):
            return None
        steps.append((base, node.attr))
        node = node.node
    if not isinstance(node, nodes.Name) or node.ctx != "load" or node.name in ENV.globals:
        return None
    name = node.name
    if not _is_canonical_model(NAME_TYPES.get(name)):
        return None
    steps.reverse()
    undefined = ENV.undefined

    def chain(names: dict[str, Any]) -> Any:
        obj = names.get(name, _MISSING)
        if obj is _MISSING:
            obj = undefined(name=name)
        for model, attr in steps:
            # ``_read``'s usual case inline (a chain runs for every line of every order);
            # anything else -- another type, a missing attribute, a method -- goes through it.
            if type(obj) is model:
                value = getattr(obj, attr, _MISSING)
                if value is not _MISSING and not isinstance(value, _METHOD_TYPES):
                    obj = value
                    continue
            obj = _read(obj, model, attr)
        return obj

    return chain


def _fast(node: nodes.Node) -> Evaluator | None:
    """A plain-Python evaluator of expression ``node``; None when it must stay on Jinja2."""
    if isinstance(node, nodes.Const):
        value = node.value
        if not isinstance(value, str | int | float | bool | type(None)):
            return None
        return lambda _names: value
    if isinstance(node, nodes.Name | nodes.Getattr):
        return _fast_chain(node)
    if isinstance(node, nodes.List | nodes.Tuple):
        if isinstance(node, nodes.Tuple) and node.ctx != "load":
            return None
        items = [_fast(item) for item in node.items]
        if any(item is None for item in items):
            return None
        parts = tuple(item for item in items if item is not None)
        make = list if isinstance(node, nodes.List) else tuple
        return lambda names: make([part(names) for part in parts])
    if isinstance(node, nodes.Not):
        inner = _fast(node.node)
        if inner is None:
            return None
        return lambda names: not inner(names)
    if isinstance(node, nodes.And | nodes.Or):
        left, right = _fast(node.left), _fast(node.right)
        if left is None or right is None:
            return None
        if isinstance(node, nodes.And):
            return lambda names: left(names) and right(names)
        return lambda names: left(names) or right(names)
    if isinstance(node, nodes.CondExpr):
        if node.expr2 is None:  # Jinja2 gives a lenient Undefined here: keep it on Jinja2
            return None
        test, then, other = _fast(node.test), _fast(node.expr1), _fast(node.expr2)
        if test is None or then is None or other is None:
            return None
        return lambda names: then(names) if test(names) else other(names)
    if isinstance(node, nodes.Concat):
        pieces = [_fast(piece) for piece in node.nodes]
        if any(piece is None for piece in pieces):
            return None
        concat = tuple(piece for piece in pieces if piece is not None)
        # Jinja2's str_join: every operand is evaluated, then each is str()-ed in order.
        return lambda names: "".join(map(str, [piece(names) for piece in concat]))
    if isinstance(node, nodes.Compare):
        return _fast_compare(node)
    return None


def _fast_compare(node: nodes.Compare) -> Evaluator | None:
    first = _fast(node.expr)
    ops: list[tuple[Callable[[Any, Any], Any], Evaluator]] = []
    for operand in node.ops:
        compare, right = _COMPARE.get(operand.op), _fast(operand.expr)
        if first is None or compare is None or right is None:
            return None
        ops.append((compare, right))
    if first is None or not ops:
        return None
    if len(ops) == 1:
        ((compare, right),) = ops
        return lambda names: compare(first(names), right(names))
    last = len(ops) - 1

    def chained(names: dict[str, Any]) -> Any:
        # Python's chained comparison: each operand evaluated once, stop at the first false.
        left = first(names)
        result: Any = None
        for index, (compare, right) in enumerate(ops):
            value = right(names)
            result = compare(left, value)
            if index < last and not result:
                return result
            left = value
        return result

    return chained


def _fast_template(tree: nodes.Template) -> Evaluator | None:
    """A template of text and fast expressions, rendered as Jinja2 renders it."""
    pieces: list[str | Evaluator] = []
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            return None
        for child in statement.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append(child.data)  # the lexer's text: newlines already normalised
                continue
            evaluate = _fast(child)
            if evaluate is None:
                return None
            pieces.append(evaluate)
    parts = tuple(pieces)

    def render(names: dict[str, Any]) -> str:
        return "".join([p if isinstance(p, str) else str(p(names)) for p in parts])

    return render
