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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser

from ..errors import SourceLocation, ValidationFailed
from .bounds import MAX_LENGTH, check_size
from .environment import (
    ENV,
    TEMPLATE_STATEMENTS,
    attributes,
    has_attribute,
    is_model,
    resolve_type,
)
from .fast_expressions import fast_evaluator, fast_template

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
    fast: bool = False  # evaluated in plain Python (see ``fast_expressions``), not through Jinja2

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
    fields of canonical objects (see ``fast_expressions``) is evaluated in plain Python,
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
        fast_render = fast_template(tree) if fast else None

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
    fast_evaluate = (
        fast_evaluator(Parser(ENV, text, state="variable").parse_expression()) if fast else None
    )

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


_MISSING = object()  # what ``_constant`` gives for a part that is not constant


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
        base = resolve_type(node.node)
        if base is None or not is_model(base):
            continue
        if not has_attribute(base, node.attr):
            known = attributes(base)
            close = difflib.get_close_matches(node.attr, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"`{text}`: {base.__name__} has no field {node.attr!r}{hint}; "
                f"fields: {', '.join(known)}"
            )
