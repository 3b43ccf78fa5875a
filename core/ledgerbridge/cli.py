"""The ``ledgerbridge`` command line (typer + rich).

Commands stay thin: they parse options, call the library, and render results.
Plugins add commands through the ``register_commands`` hook.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from . import __version__, operator_cli
from .catalog import cli as catalog_cli
from .console import users_cli
from .errors import (
    AccountBound,
    ConfigError,
    LedgerbridgeError,
    PluginError,
    ReconnectNeeded,
    SecretsError,
    UnknownId,
)
from .exitcodes import ExitCode
from .mapping import cli as mapping_cli
from .worker import cli as worker_cli

app = typer.Typer(
    name="ledgerbridge",
    help="Sync storefront orders, customers, products, payments and refunds into accounting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion (docs/operations.md)
)
console = Console()
err_console = Console(stderr=True)
app.add_typer(mapping_cli.app, name="mappings")
operator_cli.register(app)
catalog_cli.register(app)
worker_cli.register(app)
users_cli.register(app)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG"),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"ledgerbridge {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            envvar="LEDGERBRIDGE_LOG_LEVEL",
            help="debug, info (default), warning, error. Any command takes it.",
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            envvar="LEDGERBRIDGE_LOG_FORMAT",
            help="human (default) or json: one JSON object per log line, on stderr.",
        ),
    ] = None,
) -> None:
    """ledgerbridge command line."""
    from . import logs

    try:
        logs.configure(log_level, log_format)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def connectors(
    as_json: Annotated[
        bool, typer.Option("--json", help="Machine-readable output (docs/operations.md).")
    ] = False,
) -> None:
    """List every loaded connector plugin: name, version, kind and capabilities."""
    from .plugins import get_registry

    registry = get_registry()
    if as_json:
        import json

        rows = [
            {"name": s.name, "kind": s.kind.value, "plugin": s.plugin, "version": s.version,
             "status": s.status, "capabilities": sorted(s.capabilities),
             "emulator": s.emulator is not None, "catalog": _catalog_row(s)}
            for s in sorted(registry.connectors.values(), key=lambda s: (s.kind, s.name))
        ]  # fmt: skip
        print(json.dumps({"connectors": rows, "problems": list(registry.problems)}, indent=2))
        return
    table = Table(title="Connectors")
    for column in ("name", "kind", "plugin", "version", "status", "capabilities"):
        table.add_column(column)
    for spec in sorted(registry.connectors.values(), key=lambda s: (s.kind, s.name)):
        status = "[green]ready[/]" if spec.status == "ready" else "[yellow]shell (not built yet)[/]"
        table.add_row(
            spec.name,
            spec.kind.value,
            spec.plugin,
            spec.version,
            status,
            ", ".join(sorted(spec.capabilities)) or "-",
        )
    console.print(table)
    _catalog_table(registry.connectors.values())
    for problem in registry.problems:
        err_console.print(f"[yellow]warning:[/] {problem}")


def _catalog_row(spec: Any) -> dict[str, Any] | None:
    """What a connector reads and writes in a catalog pipeline, and through which call."""
    cat = spec.catalog
    if cat is None:
        return None
    return {
        "reads": sorted(f.value for f in cat.reads),
        "writes": sorted(f.value for f in cat.writes),
        "write_paths": {f.value: p for f, p in cat.write_paths.items()},
    }


def _catalog_table(specs: Any) -> None:
    """What each connector reads and writes in a catalog pipeline, below the table (plain
    lines: the table above stays one row per connector)."""
    rows: list[tuple[str, dict[str, Any]]] = []
    for spec in sorted(specs, key=lambda s: s.name):
        row = _catalog_row(spec)
        if row is not None:
            rows.append((spec.name, row))
    if not rows:
        return
    console.print("Catalog pipelines (docs/catalog.md): what each connector reads and writes")
    for name, row in rows:
        console.print(
            f"  {name}: reads {', '.join(row['reads'])}; writes "
            f"{', '.join(row['writes']) or 'nothing'}",
            highlight=False,
            markup=False,
        )
        for field, path in row["write_paths"].items():
            console.print(f"      {field}: {path}", highlight=False, markup=False)


@app.command()
def check(config: ConfigOption = Path("ledgerbridge.yaml")) -> None:
    """Validate a config file: syntax, schema, connectors, connection settings, mappings."""
    from .config import load_config

    try:
        loaded = load_config(config)
    except ConfigError as exc:
        _print_config_error(exc)
        raise typer.Exit(int(ExitCode.CONFIG)) from None
    table = Table(title=f"{config}: OK")
    for column in ("tenant", "pipeline", "source", "target", "mapping", "policy", "interval"):
        table.add_column(column)
    for tenant, pipe in loaded.pipelines():
        src = tenant.connections[pipe.source].platform
        tgt = tenant.connections[pipe.target].platform
        table.add_row(
            tenant.id,
            pipe.id,
            f"{pipe.source} ({src})",
            f"{pipe.target} ({tgt})",
            str(loaded.mapping_path(pipe).name),
            pipe.posting_policy or "(from mapping)",
            str(pipe.interval),
        )
    console.print(table)
    for entry in loaded.catalogs:  # kind: catalog (docs/catalog.md)
        owners = ", ".join(f"{f.value}: {o}" for f, o in entry.pipeline.ownership.items())
        console.print(
            f"catalog {entry.tenant.id}/{entry.pipeline.id}: "
            f"{' <-> '.join(entry.pipeline.connections)}; owners {owners}; "
            f"on drift {entry.pipeline.on_drift}; approve {entry.pipeline.approve}",
            highlight=False,
            markup=False,
        )


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config.")] = Path(
        "ledgerbridge.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config."""
    from .starter import STARTER_CONFIG

    if path.exists() and not force:
        err_console.print(f"[red]error:[/] {path} exists; use --force to overwrite it")
        raise typer.Exit(1)
    path.write_text(STARTER_CONFIG, encoding="utf-8")
    console.print(f"wrote {path}; edit it, then run [bold]ledgerbridge check -c {path}[/]")


@app.command()
def keygen() -> None:
    """Print a new encryption key for LEDGERBRIDGE_SECRET_KEY."""
    from .store import generate_key

    console.print(generate_key(), highlight=False, soft_wrap=True)


@app.command()
def migrate(
    database: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL (default: the config's database:, else LEDGERBRIDGE_DATABASE_URL)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG"),
    ] = None,
) -> None:
    """Create or upgrade the state store schema."""
    from .config.loader import config_database
    from .store import Store

    if database is None:
        path = config or Path("ledgerbridge.yaml")
        if config is not None or path.exists():
            database = config_database(path)
    store = Store(database)
    store.migrate()
    console.print(f"schema is up to date ({_redact_url(store.url)})")


@app.command()
def sandbox(
    name: Annotated[str, typer.Argument(help="Connector whose emulator to run.")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8900,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    orders: Annotated[
        int | None, typer.Option(help="Orders to seed (a store's sandbox; default: its own).")
    ] = None,
) -> None:
    """Run a connector's platform emulator on a loopback port; prints its URL and the
    connection block (settings, credentials, organisation ids) a config needs."""
    import uvicorn

    from .plugins import get_registry
    from .sandbox import startup_lines

    spec = get_registry().get(name)
    if spec.emulator is None:
        err_console.print(f"[red]error:[/] connector {name!r} has no emulator")
        raise typer.Exit(1)
    app = spec.emulator() if orders is None else spec.emulator(orders=orders)
    url = f"http://{host}:{port}"
    info = spec.sandbox_info(url) if spec.sandbox_info else None
    connection = "books" if spec.kind.value == "target" else "shop"
    for line in startup_lines(name, spec.title, url, info, connection):
        print(line, flush=True)  # plain text: piped to a file or a test, it stays one line
    from .logs import uvicorn_log_config

    uvicorn.run(app, host=host, port=port, log_level="warning", log_config=uvicorn_log_config())


def _redact_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _print_config_error(exc: ConfigError) -> None:
    for location, message in exc.problems:
        err_console.print(f"[red]{location}[/]: {message}", highlight=False, soft_wrap=True)


def _load_plugin_commands() -> None:
    from .plugins import get_registry

    get_registry().pm.hook.register_commands(cli=app)


def exit_code_of(exc: LedgerbridgeError) -> ExitCode:
    """The exit code of an error that ended a command (docs/operations.md, "Exit codes")."""
    from .engine import PipelineBusy

    if isinstance(exc, UnknownId):
        return ExitCode.NOT_FOUND
    if isinstance(exc, ConfigError | SecretsError | PluginError | AccountBound):
        return ExitCode.CONFIG
    if isinstance(exc, ReconnectNeeded):
        return ExitCode.CREDENTIALS
    if isinstance(exc, PipelineBusy):
        return ExitCode.BUSY
    return ExitCode.INTERNAL


GLOBAL_OPTIONS = ("--log-level", "--log-format")


def hoist_global_options(argv: list[str]) -> list[str]:
    """``--log-level``/``--log-format`` are the root's options; written after the command
    (``ledgerbridge sync --log-format json``) they are moved before it, so every command --
    a plugin's too -- takes them without declaring them.  Nothing after ``--`` moves."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest += argv[index:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            if "=" in arg:
                front.append(arg)
            else:
                front += argv[index : index + 2]
                index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def main() -> None:
    try:
        _load_plugin_commands()
        app(args=hoist_global_options(sys.argv[1:]))
    except UnknownId as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(int(ExitCode.NOT_FOUND))
    except ConfigError as exc:
        _print_config_error(exc)
        sys.exit(int(ExitCode.CONFIG))
    except LedgerbridgeError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(int(exit_code_of(exc)))


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
