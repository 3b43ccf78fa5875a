"""Mapping expressions cannot build huge values, and the sandbox still blocks escapes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledgerbridge.mapping.bounds import MAX_LENGTH
from ledgerbridge.mapping.expressions import ORDER_SCOPE, ExpressionFailed, compile_expression

REPO = Path(__file__).resolve().parents[2]
SCOPE = ORDER_SCOPE | {"line"}


def test_mappings_validate_refuses_a_gigabyte_string_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("extends: shopify-to-zohobooks\ndocument:\n  notes: \"{{ 'a' * 10**9 }}\"\n")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ledgerbridge", "mappings", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 1, (done.stdout, done.stderr)  # it used to pass
    assert f"{path}:3:10" in done.stderr and "at most 100000 long" in done.stderr, done.stderr
    assert time.perf_counter() - started < 30


# Each of these would build (or try to build) a value of at least 10 MB.
AT_LOAD = [
    "'a' * 10**9",
    "{{ 'a' * 10**9 }}",
    "[0] * 10**7",
    "'%010000000d' % 1",
    "(10**64) ** 64",
    "('x' * 60000) + ('y' * 60000)",
]
AT_RUN = [
    "'ab' | center(10**7)",
    "'ab'.ljust(10**7)",
    "'7'.zfill(10**7)",
    "'{:>10000000}'.format(1)",
    "'x' | indent(10**7, true)",
    "('x' * 100000) | join('y' * 100000)",
    "('x' * 10000) | replace('', 'y' * 10000)",
    "('x' * 10000) | wordwrap(1, true, 'y' * 10000)",
    "'%s' | format('x' * 100000 ~ 'y')",
    "(('x' * 10000) | list) | batch(10**9, 'y') | list",
    "{% for a in 'x' * 100000 %}{{ 'y' * 1000 }}{% endfor %}",
]


@pytest.mark.parametrize("source", AT_LOAD)
def test_a_constant_expression_over_the_bound_is_a_load_error(source: str) -> None:
    with pytest.raises(ValueError, match="at most|too large"):
        compile_expression(source, SCOPE)


@pytest.mark.parametrize("source", AT_RUN)
def test_growing_a_value_past_the_bound_fails_the_record_not_the_worker(source: str) -> None:
    expression = compile_expression(source, SCOPE)
    started = time.perf_counter()
    with pytest.raises(ExpressionFailed, match="at most|renders more than"):
        expression.evaluate({})
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "source",
    [
        "{% set x = 'a' %}{% set x = x ~ x %}{{ x }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{% for a in 'ab' %}{% for b in 'ab' %}{{ a }}{% endfor %}{% endfor %}",
    ],
)
def test_templates_may_not_set_define_macros_or_nest_loops(source: str) -> None:
    with pytest.raises(ValueError, match="mapping template"):
        compile_expression(source, SCOPE)


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("'-' * 20", "-" * 20),
        ("'%s-%05d' % ('A', 7)", "A-00007"),
        ("'{}|{:>4}'.format('A', 7)", "A|   7"),
        ("'a,b' | replace(',', ', ')", "a, b"),
        ("['a', 'b'] | join('/')", "a/b"),
        ("{% if true %}{% for c in 'abc' %}{{ c }}.{% endfor %}{% endif %}", "a.b.c."),
        ("2 ** 10 * 3", 3072),
        ("'x' * 50000 + 'y' * 50000", "x" * 50000 + "y" * 50000),
    ],
)
def test_ordinary_expressions_still_work(source: str, value: object) -> None:
    assert compile_expression(source, SCOPE).evaluate({}) == value
    assert MAX_LENGTH == 100_000


ESCAPES = [
    "''.__class__.__mro__[1].__subclasses__()",
    "lookup.__globals__",
    "lookup.__globals__['__builtins__']['__import__']('os')",
    "'{0.__class__.__mro__}'.format('')",
    "''.__class__.__base__.__subclasses__()",
    "[].append(1)",
    "{}.update(x=1)",
    "(1).__class__.__bases__[0].__subclasses__()",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_known_sandbox_escapes_stay_blocked(source: str) -> None:
    try:
        expression = compile_expression(source, SCOPE)
    except ValueError:
        return  # refused when the mapping loads
    with pytest.raises(ExpressionFailed):
        expression.evaluate({"lookup": lambda *args: None})
