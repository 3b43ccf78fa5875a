"""Property: a mapping expression compiles or is refused with ``ValueError``; it evaluates
or fails with ``ExpressionFailed``; nothing gets out of the sandbox; none is slow.

Expressions come from a grammar over what mappings name, with the classic sandbox
escapes (``__class__.__mro__``, ``__globals__``, ``attr('__class__')``, ``cycler``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.fuzz import expressions as E
from ledgerbridge.errors import ConfigError
from ledgerbridge.mapping import ExpressionFailed, compile_expression, load_mapping
from ledgerbridge.mapping.expressions import ORDER_SCOPE

from .support import bounded

NAMES = E.sample_names()
REPO = Path(__file__).resolve().parents[2]


def test_generated_expressions_keep_the_property() -> None:
    @bounded(150)
    @given(data=st.data())
    def check(data: Any) -> None:
        def choose(options: Any) -> Any:
            return data.draw(st.sampled_from(list(options)))

        text = E.as_template(choose, E.generate(choose, data.draw(st.integers(1, 4))))
        problem = E.violation(text, NAMES)
        assert problem is None, f"{text!r}: {problem}"

    check()


@pytest.mark.parametrize(
    "text",
    [
        "((-11).__globals__) and (order.number)",
        "Ref {{ ((13)['__class__']) or order.number }}",
        "(({'k': 1})|attr('__globals__')) or order.lines",
    ],
)
def test_a_constant_the_sandbox_refuses_is_an_invalid_expression_not_a_crash(text: str) -> None:
    """Jinja2 folds constants while compiling: these raised UndefinedError/SecurityError."""
    with pytest.raises(ValueError, match="invalid expression"):
        compile_expression(text, ORDER_SCOPE)


def test_a_mapping_holding_such_an_expression_is_refused_with_its_position(
    tmp_path: Path,
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "extends: woocommerce-to-zohobooks\n"
        "document:\n"
        "  reference: \"((13)['__class__']) or order.number\"\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    [(where, message)] = caught.value.problems
    assert (where.line, where.column) == (3, 14) and "invalid expression" in message


def test_cycler_without_items_fails_the_expression_not_the_record() -> None:
    with pytest.raises(ExpressionFailed, match="at least one item"):
        compile_expression("cycler()", ORDER_SCOPE).evaluate(NAMES)


def test_an_expression_building_a_gigabyte_string_is_refused() -> None:
    """``{{ 'a' * 10**9 }}``: refused when compiled or evaluated, never built. Run in a
    child process limited to 1 GiB of address space so that, unbounded, it fails fast."""
    code = (
        "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from ledgerbridge.mapping import ExpressionFailed, compile_expression\n"
        "from ledgerbridge.mapping.expressions import ORDER_SCOPE\n"
        "try:\n"
        "    e = compile_expression(\"{{ 'a' * 10**9 }}\", ORDER_SCOPE)\n"
        "except ValueError:\n"
        "    raise SystemExit(0)\n"
        "try:\n"
        "    e.evaluate({})\n"
        "except ExpressionFailed:\n"
        "    raise SystemExit(0)\n"
        "raise SystemExit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert done.returncode == 0, done.stderr[-500:]


@pytest.mark.parametrize("text", ["{{ 1 and 2 }}", "{{ 0 or 'x' }}", "{{ (1 + 1) and true }}"])
def test_constant_logic_compiles(text: str) -> None:
    """Found by the fuzz run: constant ``and``/``or`` crashed the load-time folding."""
    compile_expression(text, ORDER_SCOPE)
