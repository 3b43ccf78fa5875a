"""The fast path of mapping expressions: plain Python closures for the expressions that
only read canonical fields, giving exactly what Jinja2 gives (``bench/bench_engine.py``
measures the difference: the "expressions" row, fast path against Jinja2 only)."""

from __future__ import annotations

import operator
import types
from collections import deque
from collections.abc import Callable, MutableMapping, MutableSequence, MutableSet
from typing import Any

from jinja2 import nodes
from pydantic import BaseModel

from .environment import ENV, NAME_TYPES, is_model, resolve_type

# --------------------------------------------------------------------------- the fast path
#
# Most mapping expressions only read fields: ``order.number``, ``line.title``,
# ``order.processed_at or order.created_at``, ``"Order {{ order.number }}"``.
# Through Jinja2 each evaluation builds a template context and passes every
# attribute through the sandbox's checks (~15 us); read directly it costs well
# under one.  ``fast_evaluator`` compiles such an expression to plain Python closures
# that do exactly what the code Jinja2 generates for it does:
#
# * names are read from the evaluation's names (a missing one is Jinja2's
#   ``undefined(name=...)``, which fails when used);
# * an attribute is read directly only where the static type of the object is a
#   canonical model (``resolve_type``), the attribute is one of its fields or
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
        is_model(tp)
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
        base = resolve_type(node.node)
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


def fast_evaluator(node: nodes.Node) -> Evaluator | None:
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
        items = [fast_evaluator(item) for item in node.items]
        if any(item is None for item in items):
            return None
        parts = tuple(item for item in items if item is not None)
        make = list if isinstance(node, nodes.List) else tuple
        return lambda names: make([part(names) for part in parts])
    if isinstance(node, nodes.Not):
        inner = fast_evaluator(node.node)
        if inner is None:
            return None
        return lambda names: not inner(names)
    if isinstance(node, nodes.And | nodes.Or):
        left, right = fast_evaluator(node.left), fast_evaluator(node.right)
        if left is None or right is None:
            return None
        if isinstance(node, nodes.And):
            return lambda names: left(names) and right(names)
        return lambda names: left(names) or right(names)
    if isinstance(node, nodes.CondExpr):
        if node.expr2 is None:  # Jinja2 gives a lenient Undefined here: keep it on Jinja2
            return None
        test, then, other = (
            fast_evaluator(node.test),
            fast_evaluator(node.expr1),
            fast_evaluator(node.expr2),
        )
        if test is None or then is None or other is None:
            return None
        return lambda names: then(names) if test(names) else other(names)
    if isinstance(node, nodes.Concat):
        pieces = [fast_evaluator(piece) for piece in node.nodes]
        if any(piece is None for piece in pieces):
            return None
        concat = tuple(piece for piece in pieces if piece is not None)
        # Jinja2's str_join: every operand is evaluated, then each is str()-ed in order.
        return lambda names: "".join(map(str, [piece(names) for piece in concat]))
    if isinstance(node, nodes.Compare):
        return _fast_compare(node)
    return None


def _fast_compare(node: nodes.Compare) -> Evaluator | None:
    first = fast_evaluator(node.expr)
    ops: list[tuple[Callable[[Any, Any], Any], Evaluator]] = []
    for operand in node.ops:
        compare, right = _COMPARE.get(operand.op), fast_evaluator(operand.expr)
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


def fast_template(tree: nodes.Template) -> Evaluator | None:
    """A template of text and fast expressions, rendered as Jinja2 renders it."""
    pieces: list[str | Evaluator] = []
    for statement in tree.body:
        if not isinstance(statement, nodes.Output):
            return None
        for child in statement.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append(child.data)  # the lexer's text: newlines already normalised
                continue
            evaluate = fast_evaluator(child)
            if evaluate is None:
                return None
            pieces.append(evaluate)
    parts = tuple(pieces)

    def render(names: dict[str, Any]) -> str:
        return "".join([p if isinstance(p, str) else str(p(names)) for p in parts])

    return render
