"""``ledgerbridge catalog ...``: sync (and ``--dry-run``'s field-level diff per SKU), link
by hand, the writes held for approval and their approval.

``ledgerbridge sync CATALOG_ID`` comes here too (``operator_cli.sync`` hands a catalog
pipeline's id over), so a catalog is run like any pipeline.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..config import LoadedConfig, load_config
from ..config.catalog import CatalogEntry
from ..errors import UnknownId
from ..exitcodes import ExitCode
from .runner import CatalogReport, run_catalog
from .state import ENTITY, CatalogState

console = Console()
err_console = Console(stderr=True)
app = typer.Typer(help="Catalog pipelines: sync, link by hand, approve held writes.")
ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG")
]
DEFAULT_CONFIG = Path("ledgerbridge.yaml")


def find(loaded: LoadedConfig, pipeline_id: str) -> CatalogEntry | None:
    return next((e for e in loaded.catalogs if e.pipeline.id == pipeline_id), None)


def _entry(loaded: LoadedConfig, pipeline_id: str) -> CatalogEntry:
    entry = find(loaded, pipeline_id)
    if entry is None:
        known = ", ".join(e.pipeline.id for e in loaded.catalogs) or "none"
        raise UnknownId(f"no catalog pipeline {pipeline_id!r} (catalog pipelines: {known})")
    return entry


def _engine(loaded: LoadedConfig):  # type: ignore[no-untyped-def]
    from ..engine import Engine
    from ..store import Store

    return Engine(loaded, Store(loaded.config.database))


def run_and_print(loaded: LoadedConfig, pipeline_id: str, *, dry_run: bool, as_json: bool) -> None:
    """Run one catalog pipeline and print what it did (or, dry, would do)."""
    code = run_and_report(loaded, pipeline_id, dry_run=dry_run, as_json=as_json)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def run_and_report(
    loaded: LoadedConfig, pipeline_id: str, *, dry_run: bool, as_json: bool
) -> ExitCode:
    """Run one catalog pipeline, print what it did, and say what it comes to as an exit
    code (``ledgerbridge sync`` with no id runs every enabled one after the order ones)."""
    entry = _entry(loaded, pipeline_id)
    engine = _engine(loaded)

    async def main() -> CatalogReport:
        async with engine:
            return await run_catalog(engine, entry, dry_run=dry_run)

    report = anyio.run(main)
    if as_json:
        print(json.dumps(asdict(report), indent=2, default=str), flush=True)
    else:
        show(report, dry_run=dry_run)
    if report.busy:
        err_console.print(f"[yellow]busy:[/] {report.busy}", highlight=False, soft_wrap=True)
        return ExitCode.BUSY
    if report.failed:
        return ExitCode.RETRYING
    if report.parked and not dry_run:
        return ExitCode.PARKED
    return ExitCode.OK


def show(report: CatalogReport, *, dry_run: bool) -> None:
    if report.diff:
        table = Table(
            title=f"{report.pipeline_id}: field changes" + (" (dry run)" if dry_run else "")
        )
        for col in ("SKU", "field", "to", "from", "new", "why"):
            table.add_column(Text(col), overflow="fold")
        for line in sorted(report.diff, key=lambda d: (d.sku or "", d.field)):
            table.add_row(
                *(
                    Text(x)
                    for x in (
                        line.sku or "-",
                        line.field,
                        line.side or "(conflict)",
                        str(line.old),
                        str(line.new),
                        line.outcome,
                    )
                )
            )
        console.print(table)
    pages = ", ".join(
        f"{k} {v} page(s)/{report.read.get(k, 0)} read" for k, v in report.pages.items()
    )
    console.print(
        f"{report.pipeline_id}: {pages}; bound {report.bound}, parked {report.parked}, "
        f"{'would write' if dry_run else 'written'} "
        f"{len({(d.sku, d.side) for d in report.diff if d.side}) if dry_run else report.written}"
        f" variant(s), failed {report.failed}, conflicts {report.conflicts}, "
        f"drift {report.drift}, held {report.held}"
        + (f", gone {report.gone}" if report.gone else ""),
        highlight=False,
    )


@app.command("sync")
def sync(
    pipeline: Annotated[str, typer.Argument(help="Catalog pipeline id.")],
    config: ConfigOption = DEFAULT_CONFIG,
    dry_run: Annotated[bool, typer.Option(help="The field-level diff per SKU; no writes.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Run one catalog pipeline once."""
    run_and_print(load_config(config), pipeline, dry_run=dry_run, as_json=as_json)


@app.command("link")
def link(
    pipeline: Annotated[str, typer.Argument(help="Catalog pipeline id.")],
    first: Annotated[str, typer.Argument(help="Variant id on the pipeline's first connection.")],
    second: Annotated[str, typer.Argument(help="Variant id on its second connection.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Bind two variants by hand (a SKU that matched nothing, or more than one)."""
    loaded = load_config(config)
    entry = _entry(loaded, pipeline)
    engine = _engine(loaded)
    engine.store.migrate()
    a, b = entry.pipeline.connections
    state = CatalogState(engine.store, pipeline)
    for side, vid in ((a, first), (b, second)):
        if vid not in state.variants(side, [vid]):
            err_console.print(
                f"[red]error:[/] no variant {vid!r} read from {side} yet (run the pipeline first)"
            )
            raise typer.Exit(int(ExitCode.NOT_FOUND))
    from ..engine.journal import Journal, Scope

    journal = Journal(
        engine.store,
        Scope(entry.tenant.id, pipeline, f"{entry.tenant.id}/{a}", f"{entry.tenant.id}/{b}"),
    )
    for old in journal.bound_to(ENTITY, second):
        if old.external_id != first:
            err_console.print(f"[red]error:[/] {b} {second} is bound to {a} {old.external_id}")
            raise typer.Exit(int(ExitCode.USAGE))
    from ..engine.journal import Batch

    batch = Batch()
    batch.add_binding(journal.binding_row(ENTITY, first, ENTITY, second))
    journal.commit(batch)
    state.mark_pending(a, [first])
    state.mark_pending(b, [second])
    console.print(f"bound {a} {first} <-> {b} {second}; the next run syncs them")


@app.command("held")
def held(
    pipeline: Annotated[str, typer.Argument(help="Catalog pipeline id.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Writes waiting for approval (``approve: manual``)."""
    loaded = load_config(config)
    entry = _entry(loaded, pipeline)
    engine = _engine(loaded)
    engine.store.migrate()
    rows = CatalogState(engine.store, pipeline).held()
    if not rows:
        console.print("nothing held")
        return
    sides = dict(zip(("a", "b"), entry.pipeline.connections, strict=True))
    table = Table(title=f"{pipeline}: held writes (`catalog approve {pipeline}`)")
    for col in ("variant", "field", "to", "value", "approved"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.a_id,
            r.field,
            sides.get(r.held_side or "", "-"),
            str(r.held_value),
            "yes" if r.approved else "no",
        )
    console.print(table)


@app.command("approve")
def approve(
    pipeline: Annotated[str, typer.Argument(help="Catalog pipeline id.")],
    variant: Annotated[
        list[str] | None, typer.Option(help="Only these variants (first connection's ids).")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Approve held writes; the next run makes them (if the owner still holds the value)."""
    loaded = load_config(config)
    entry = _entry(loaded, pipeline)
    engine = _engine(loaded)
    engine.store.migrate()
    state = CatalogState(engine.store, pipeline)
    rows = [r for r in state.held() if not variant or r.a_id in variant]
    count = state.approve([r.a_id for r in rows])
    a, b = entry.pipeline.connections
    state.mark_pending(a, [r.a_id for r in rows])
    state.mark_pending(b, [r.b_id for r in rows])
    console.print(f"approved {count} held write(s); the next run of {pipeline} makes them")


@app.command("status")
def status(
    pipeline: Annotated[str, typer.Argument(help="Catalog pipeline id.")],
    config: ConfigOption = DEFAULT_CONFIG,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
) -> None:
    """Checkpoints per side, bound variants, record states, held writes, open conflicts."""
    from .status import catalog_row

    loaded = load_config(config)
    entry = _entry(loaded, pipeline)
    engine = _engine(loaded)
    engine.store.migrate()
    row = catalog_row(engine.store, entry)
    if as_json:
        print(json.dumps(row, indent=2), flush=True)
        return
    for key, value in row.items():
        console.print(f"{key}: {value}", highlight=False, markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="catalog")
