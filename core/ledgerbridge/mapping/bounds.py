"""Size bounds for mapping expressions: no expression may build a huge value.

Jinja2's sandbox blocks unsafe attributes and calls, but not size: ``'a' * 10**9``
builds a gigabyte.  Every way an expression can make a value much larger than its
inputs is checked *before* the value is built -- the binary operators the
environment intercepts (``*``, ``**``, ``%``, ``+``), the filters that grow text
(``center``, ``indent``, ``join``, ``replace``, ``wordwrap``, ``format``, ``batch``,
``slice``) and calls of ``str`` methods (``ljust``, ``zfill``, ``join``, ``format``
...).  Anything else is checked after the fact (``check_size``), and a template's
output is counted while it renders.  A refusal is ``SecurityError``: at load time
(constant expressions) it is a mapping error, at run time the record is parked.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from jinja2.exceptions import SecurityError

MAX_LENGTH = 100_000  # characters of a string, items of a list
MAX_INT_BITS = 8_192  # ~2,466 decimal digits
MAX_EXPONENT = 64

_SIZED = (str, bytes, list, tuple)
# printf-style conversions: %[(name)][flags][width][.precision]type
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
# str.format fields: digits anywhere inside {...} (width, precision, index)
_FIELD = re.compile(r"\{[^{}]*\}")
_DIGITS = re.compile(r"\d+")


def _refuse(what: str) -> SecurityError:
    return SecurityError(f"{what}; an expression's value may be at most {MAX_LENGTH} long")


def length(value: Any) -> int | None:
    return len(value) if isinstance(value, _SIZED) else None


def check_size(value: Any, what: str = "the result") -> Any:
    size = length(value)
    if size is not None and size > MAX_LENGTH:
        raise _refuse(f"{what} is {size} long")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left <operator> right`` when its value would be too large."""
    if operator == "**":
        if isinstance(right, int | float | Decimal) and abs(Decimal(right)) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        if _is_int(left) and _is_int(right) and left.bit_length() * right > MAX_INT_BITS:
            raise SecurityError(f"{left.bit_length()}-bit number ** {right} is too large")
    elif operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = length(seq)
            if size is not None and isinstance(times, int) and size * times > MAX_LENGTH:
                raise _refuse(f"{times} times a value of length {size}")
        if (
            _is_int(left)
            and _is_int(right)
            and left.bit_length() + right.bit_length() > MAX_INT_BITS
        ):
            raise SecurityError("the product of these numbers is too large")
    elif operator == "+":
        a, b = length(left), length(right)
        if a is not None and b is not None and a + b > MAX_LENGTH:
            raise _refuse(f"joining {a} and {b} items")
    elif operator == "%" and isinstance(left, str):
        check_percent(left, right if isinstance(right, tuple) else (right,))


def check_percent(template: str, args: tuple[Any, ...]) -> None:
    """``template % args``: widths and precisions (written or ``*``) are bounded."""
    for width, precision in _PERCENT.findall(template):
        for part in (width, precision):
            if part.isdigit() and int(part) > MAX_LENGTH:
                raise _refuse(f"a format width of {part}")
    if "*" in template:
        _check_int_args(args, {})


def _check_int_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if _is_int(value) and abs(value) > MAX_LENGTH:
            raise _refuse(f"a size of {value}")


def check_format_fields(template: str) -> None:
    """``str.format``: no width, precision or index inside a field is over the bound."""
    for field in _FIELD.findall(template):
        for digits in _DIGITS.findall(field):
            if len(digits) > 6 or int(digits) > MAX_LENGTH:
                raise _refuse(f"a format field {field[:40]!r}")


def _text_length(value: Any, budget: int) -> int:
    """How long ``str(value)`` is, at most ``budget`` + 1 (estimated without building it)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        total = 2 * len(value)
        for item in value:
            total += _text_length(item, budget - total)
            if total > budget:
                return budget + 1
        return total
    return len(str(value))


def _joined(items: Any, separator: Any) -> None:
    """``separator.join(items)``, estimated without building it."""
    materialised = list(items)
    total = len(str(separator)) * max(0, len(materialised) - 1)
    for item in materialised:
        total += _text_length(item, MAX_LENGTH - total)
        if total > MAX_LENGTH:
            break
    if total > MAX_LENGTH:
        raise _refuse("the joined text")


def _replaced(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    found = text.count(old)
    if _is_int(count) and count >= 0:
        found = min(found, count)
    if len(text) + found * (len(new) - len(old)) > MAX_LENGTH:
        raise _refuse("the replaced text")


def check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A call of a method of ``str`` from an expression (``'x'.ljust(10**9)``)."""
    target = getattr(method, "__wrapped__", method)  # the sandbox wraps str.format
    owner = getattr(target, "__self__", None)
    _check_int_args(args, kwargs)
    if not isinstance(owner, str):
        return
    name = getattr(target, "__name__", "")
    if name == "join" and args:
        _joined(args[0], owner)
    elif name == "replace" and len(args) >= 2:
        _replaced(owner, *args[:3])
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if _is_int(size) and len(owner) + owner.count("\t") * size > MAX_LENGTH:
            raise _refuse("the expanded text")
    elif name in ("format", "format_map"):
        check_format_fields(owner)


# --------------------------------------------------------------------------- filters


def _filter_center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    _check_int_args((width,), {})


def _filter_indent(value: Any, width: Any = 4, *_: Any, **kw: Any) -> None:
    text, width = str(value), kw.get("width", width)
    if isinstance(width, str):
        pad = len(width)
    else:
        _check_int_args((width,), {})
        pad = width if _is_int(width) else 0
    if len(text) + (text.count("\n") + 1) * pad > MAX_LENGTH:
        raise _refuse("the indented text")


def _filter_wordwrap(value: Any, width: Any = 79, *args: Any, **kw: Any) -> None:
    text, width = str(value), kw.get("width", width)
    wrap = kw.get("wrapstring", args[1] if len(args) > 1 else None)
    lines = len(text) // max(width if _is_int(width) else 1, 1) + 1
    if len(text) + lines * len(str(wrap or "\n")) > MAX_LENGTH:
        raise _refuse("the wrapped text")


def _filter_join(value: Any, d: Any = "", *_: Any, **kw: Any) -> None:
    _joined(value, kw.get("d", d))


def _filter_replace(value: Any, old: Any = "", new: Any = "", count: Any = None, **_: Any) -> None:
    _replaced(str(value), old, new, -1 if count is None else count)


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(value, str):
        check_percent(value, args or (kwargs,))


def _filter_sizes(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_int_args(args, kwargs)


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _filter_center,
    "indent": _filter_indent,
    "wordwrap": _filter_wordwrap,
    "join": _filter_join,
    "replace": _filter_replace,
    "format": _filter_format,
    "batch": _filter_sizes,
    "slice": _filter_sizes,
}


def bound_filters(filters: dict[str, Callable[..., Any]]) -> None:
    """Wrap every filter: the ones that grow text are checked first, all after."""
    for name, original in list(filters.items()):
        filters[name] = _bounded(name, original, _FILTER_CHECKS.get(name))


def _bounded(name: str, original: Callable[..., Any], check: Callable[..., None] | None) -> Any:
    passes = 1 if getattr(original, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(original)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if check is not None:
            check(*args[passes:], **kwargs)
        return check_size(original(*args, **kwargs), f"the result of |{name}")

    return bounded


__all__ = [
    "MAX_EXPONENT",
    "MAX_INT_BITS",
    "MAX_LENGTH",
    "bound_filters",
    "check_binop",
    "check_method",
    "check_size",
]
