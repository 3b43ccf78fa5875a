"""``ledgerbridge mappings ...``: validate a mapping file and preview what it would write."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mappings",
    help="Validate mapping files and preview the target payloads they produce.",
    no_args_is_help=True,
)


@app.callback()
def mappings() -> None:
    """Mapping files (canonical -> target field rules)."""
