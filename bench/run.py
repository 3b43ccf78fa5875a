"""Run every benchmark in bench/ and print a table (``--json`` for machines).

Benchmarks are plain modules named ``bench_*.py`` with a ``run() -> list[Figure]``
function. Figures are measured, never asserted: targets live in docs/performance.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from figures import Figure  # noqa: E402


def _needs_arguments(fn: object) -> bool:
    """A ``run`` that takes required arguments belongs to a bench run as its own command."""
    import inspect

    return any(
        p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        for p in inspect.signature(fn).parameters.values()  # type: ignore[arg-type]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--out", help="also write the figures as JSON to this file")
    parser.add_argument("names", nargs="*", help="only these benchmarks (e.g. canonical)")
    args = parser.parse_args()
    figures: list[Figure] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if args.names and name not in args.names:
            continue
        module = importlib.import_module(path.stem)
        if not hasattr(module, "run"):  # a bench with its own make target (bench-workers)
            continue
        if _needs_arguments(module.run):  # its own command (bench_shared_limits: Redis, ~8 min)
            continue
        figures.extend(module.run())
    payload = json.dumps([f.as_dict() for f in figures], indent=2)
    if args.out:
        Path(args.out).write_text(payload + "\n")
    if args.json:
        print(payload)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ledgerbridge benchmarks")
    for col in ("benchmark", "figure", "value", "unit", "target"):
        table.add_column(col)
    for f in figures:
        table.add_row(f.bench, f.name, f"{f.value:,.2f}", f.unit, f.target or "")
    Console().print(table)


if __name__ == "__main__":
    main()
