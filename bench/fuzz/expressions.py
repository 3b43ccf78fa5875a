"""Generated mapping expressions and the sandbox's property.

Expressions are built from a small grammar over what a mapping can name (``order``,
``customer``, ``extra``, ``options``, ``lookup``), operators, filters, calls and the
classic sandbox-escape chains (``__class__.__mro__``, ``__globals__``, ``cycler``,
``lipsum``, ``attr('__class__')``).  The property (``violation``): compiling either
gives an ``Expression`` or raises ``ValueError``; evaluating either gives a plain
value or raises ``ExpressionFailed``; nothing escapes the sandbox (no class,
function or module comes back); every evaluation takes under a second.

Integers stay small so that generated expressions do not build gigabyte strings:
that bound (``{{ 'a' * 10**9 }}``) is the expression hardening's, tested apart.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

ATOMS = [
    "order.number",
    "order.currency",
    "order.totals.total.amount",
    "order.lines",
    "order.lines[0].quantity",
    "order.lines[0].unit_price.amount",
    "order.shipping_lines[0].title",
    "order.customer",
    "order.email",
    "order.created_at",
    "order.extra",
    "customer",
    "extra",
    "extra.anything",
    "options",
    "options.region",
    "lookup",
    "none",
    "true",
    "'a'",
    "''",
    "'%s'",
    "'{0.__class__}'",
    "[1, 2, 3]",
    "{'k': 1}",
    "range(5)",
    "range(100001)",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "self",
    "config",
    "request",
    "__builtins__",
    "()",
]
ESCAPES = [
    ".__class__",
    ".__class__.__mro__",
    ".__class__.__base__.__subclasses__()",
    ".__init__.__globals__",
    ".__globals__",
    ".__dict__",
    ".model_fields",
    ".model_dump()",
    ".__reduce_ex__(2)",
    ".mro()",
    "._run",
    "|attr('__class__')",
    "|attr('__globals__')",
    ".format(order)",
    ".__format__('')",
    "['__class__']",
]
FILTERS = [
    "|upper",
    "|lower",
    "|length",
    "|string",
    "|int",
    "|float",
    "|round(2)",
    "|abs",
    "|first",
    "|last",
    "|list",
    "|sort",
    "|sum",
    "|join(',')",
    "|default('x')",
    "|replace('a', 'b')",
    "|truncate(3)",
    "|map(attribute='quantity')|list",
    "|selectattr('quantity')|list",
    "|tojson",
    "|format(1)",
    "|trim",
    "|reverse",
    "|unique|list",
]
OPERATORS = [
    " + ",
    " - ",
    " * ",
    " / ",
    " // ",
    " % ",
    " ** ",
    " ~ ",
    " and ",
    " or ",
    " == ",
    " < ",
    " in ",
]


def generate(choose: Callable[[Sequence[Any]], Any], depth: int = 3) -> str:
    """One expression; ``choose`` picks from a sequence (``random.choice`` or a draw)."""
    kind = choose(["atom", "atom", "int", "escape", "filter", "binop", "call", "lookup", "paren"])
    if depth <= 0 or kind in ("atom", "int"):
        return str(choose(range(-50, 51))) if kind == "int" else choose(ATOMS)
    inner = generate(choose, depth - 1)
    if kind == "escape":
        return f"({inner}){choose(ESCAPES)}"
    if kind == "filter":
        return f"({inner}){choose(FILTERS)}"
    if kind == "binop":
        return f"({inner}){choose(OPERATORS)}({generate(choose, depth - 1)})"
    if kind == "call":
        return f"({inner})()"
    if kind == "lookup":
        return f"lookup('taxes', {inner})"
    return f"({inner})"


def as_template(choose: Callable[[Sequence[Any]], Any], expression: str) -> str:
    """The expression as itself, or inside a template statement."""
    shape = choose(["bare", "bare", "output", "for", "set", "if"])
    if shape == "output":
        return "Ref {{ " + expression + " }}"
    if shape == "for":
        return "{% for x in " + expression + " %}{{ x }},{% endfor %}"
    if shape == "set":
        return "{% set v = " + expression + " %}{{ v }}"
    if shape == "if":
        return "{% if " + expression + " %}yes{% else %}no{% endif %}"
    return expression


def sample_names() -> dict[str, Any]:
    """The names an order-scope expression gets, for a small order that adds up."""
    from ledgerbridge.canonical import Order

    order = Order.model_validate(
        {
            "source": {"platform": "test", "store": "s1", "external_id": "1001", "version": "v1"},
            "number": "#1001",
            "currency": "USD",
            "created_at": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
            "email": "buyer@example.com",
            "lines": [
                {
                    "line_id": "L1",
                    "title": "Widget",
                    "quantity": 2,
                    "unit_price": {"amount": "10.00", "currency": "USD"},
                }
            ],
            "shipping_lines": [
                {"title": "Standard", "price": {"amount": "5.00", "currency": "USD"}}
            ],
            "totals": {"total": {"amount": "25.00", "currency": "USD"}},
            "extra": {"gateway": "stripe"},
        }
    )
    return {
        "order": order,
        "customer": order.customer,
        "extra": order.extra,
        "options": {"region": "EU"},
        "lookup": lambda table, key: f"{table}:{key}",
    }


ESCAPED = (
    "<module ",
    "<built-in ",
    "<bound method ",
    "<class 'ledgerbridge",
    "<class 'type'>",
    "<class 'object'>",
    "__builtins__",
    "<class 'subprocess",
    "<class 'os.",
)
"""Signs in a result that the sandbox let something out (Jinja's own globals -- ``lipsum``,
``cycler``, ``joiner``, ``namespace`` -- are allowed to show themselves)."""


def violation(text: str, names: dict[str, Any], *, limit: float = 1.0) -> str | None:
    """What is wrong with compiling and evaluating ``text`` -- None when the property holds."""
    from ledgerbridge.mapping import ExpressionFailed, compile_expression
    from ledgerbridge.mapping.expressions import ORDER_SCOPE

    started = time.perf_counter()
    try:
        expression = compile_expression(text, ORDER_SCOPE)
    except ValueError:
        return _slow(started, limit)
    except Exception as exc:
        return f"crash at compile: {type(exc).__name__}: {str(exc)[:120]}"
    try:
        value = expression.evaluate(names)
    except ExpressionFailed:
        return _slow(started, limit)
    except Exception as exc:
        return f"crash at evaluation: {type(exc).__name__}: {str(exc)[:120]}"
    shown = value if isinstance(value, str) else repr(value)
    if isinstance(value, types.ModuleType | types.BuiltinFunctionType | types.MethodType) or any(
        marker in shown for marker in ESCAPED
    ):
        return f"escape: {shown[:80]!r}"
    if isinstance(value, type) and not value.__module__.startswith("jinja2"):
        return f"escape: class {value!r:.80}"
    return _slow(started, limit)


def _slow(started: float, limit: float) -> str | None:
    elapsed = time.perf_counter() - started
    return f"slow: {elapsed:.2f}s" if elapsed > limit else None
