"""``ledgerbridge mappings ...``: validate a mapping file and preview what it would write."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from ..errors import ConfigError, LedgerbridgeError

app = typer.Typer(
    name="mappings",
    help="Validate mapping files and preview the target payloads they produce.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def mappings() -> None:
    """Mapping files (canonical -> target field rules)."""


def _fail(exc: LedgerbridgeError) -> typer.Exit:
    if isinstance(exc, ConfigError):
        for location, message in exc.problems:
            err_console.print(f"[red]{location}[/]: {message}", highlight=False, soft_wrap=True)
    else:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _load(file: Path) -> Any:
    from .loader import load_mapping

    try:
        return load_mapping(file)
    except ConfigError as exc:
        raise _fail(exc) from None


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Mapping file (or a preset name).")],
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="Target connection (NAME or TENANT/NAME in the config) whose master data "
            "must contain every tax, item, account and payment mode the mapping names.",
        ),
    ] = None,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG"),
    ] = Path("ledgerbridge.yaml"),
) -> None:
    """Check a mapping file: schema, expressions, names; with --against, the target's ids."""
    file = _resolve(file)
    runtime = _load(file)
    mapping = runtime.mapping
    console.print(
        f"{file}: OK ({mapping.source} -> {mapping.target}, policy {mapping.posting_policy}, "
        f"{sum(1 for f in mapping.filters.values() if f is not None)} filters, "
        f"{len(mapping.lookups.taxes.entries)} taxes, "
        f"{len(mapping.lookups.payment_methods.entries)} payment methods, "
        f"{len(runtime.references)} target references)",
        highlight=False,
        soft_wrap=True,
    )
    if against is None:
        return
    import anyio

    from .against import check_against

    try:
        target = _target(config, against)

        async def run() -> list[Any]:
            try:
                return await check_against(runtime, target)
            finally:
                await target.aclose()

        missing = anyio.run(run)
    except LedgerbridgeError as exc:
        raise _fail(exc) from None
    for problem in missing:
        err_console.print(
            f"[red]{problem.reference.location}[/]: {escape(problem.message)}",
            highlight=False,
            soft_wrap=True,
        )
        if problem.fix:
            err_console.print(
                f"  fix: {problem.fix}", highlight=False, soft_wrap=True, markup=False
            )
    if missing:
        raise typer.Exit(1)
    console.print(
        f"all {len(runtime.references)} references exist in {against}, and so does every "
        "custom field the mapping writes",
        highlight=False,
    )


def _resolve(file: Path) -> Path:
    if file.exists():
        return file
    from ..config.loader import resolve_mapping

    return resolve_mapping(str(file), Path.cwd())


def _connector(config_path: Path, name: str, kind: str) -> Any:
    """Build the ``kind`` connector ("source" | "target") of connection ``name`` from the config.

    Credentials ``ledgerbridge connect`` stored (an OAuth refresh token, encrypted) are read
    from the config's state store, as the engine reads them: a connection made by
    ``connect`` works here without copying its token into the config.  The store is
    closed with the connector (``aclose``).
    """
    from ..config import load_config
    from ..config.loader import connection_models
    from ..contracts import ConnectorContext, ConnectorKind, Source, Target
    from ..plugins import get_registry

    loaded = load_config(config_path, check_mappings=False)
    tenant_id, _, conn_name = name.rpartition("/")
    found = [
        (t, t.connections[conn_name])
        for t in loaded.config.tenants
        if conn_name in t.connections and (not tenant_id or t.id == tenant_id)
    ]
    if not found:
        raise ConfigError(f"no connection {name!r} in {config_path}")
    if len(found) > 1:
        tenants = ", ".join(t.id for t, _ in found)
        raise ConfigError(
            f"connection {conn_name!r} exists in several tenants ({tenants}); write TENANT/NAME"
        )
    tenant, conn = found[0]
    spec = get_registry().get(conn.platform)
    if spec.kind is not ConnectorKind(kind):
        raise ConfigError(f"connection {name!r} ({conn.platform}) is not a {kind} connector")
    settings, secrets = connection_models(conn, spec)
    conn_id = f"{tenant.id}/{conn_name}"
    context = ConnectorContext(conn_id, tenant.id, settings, secrets)
    store = _stored_credentials(loaded.config.database, conn_id, context)
    built = spec.build(context)
    if not isinstance(built, Target if kind == "target" else Source):
        raise ConfigError(f"connector {conn.platform!r} did not build a {kind}")
    if store is not None:
        close = built.aclose

        async def aclose() -> None:
            try:
                await close()
            finally:
                store.close()

        built.aclose = aclose  # type: ignore[method-assign]
    return built


def _stored_credentials(database: str | None, conn_id: str, context: Any) -> Any:
    """Point ``context`` at the connection's stored credentials, if the store has the
    connection (``ledgerbridge connect`` registered it); return the open store or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from ..store import Store
    from ..store.adapters import StoreCredentials, StoreLocks
    from ..store.store import resolve_url

    url = make_url(resolve_url(database))
    if url.get_backend_name() == "sqlite" and not Path(url.database or ":memory:").exists():
        return None  # no state store yet: nothing stored (and none created by a look)
    store = Store(database)
    try:
        registered = store.get_connection(conn_id) is not None
    except SQLAlchemyError:  # no state store yet (never migrated): nothing stored
        registered = False
    if not registered:
        store.close()
        return None
    context.credentials = StoreCredentials(store, conn_id)
    context.locks = StoreLocks(store)
    return store


def _target(config_path: Path, name: str) -> Any:
    return _connector(config_path, name, "target")


def _known_order_id(config_path: Path, name: str, query: str) -> str:
    """The source id of the order ``query`` names, when the state store has seen it by
    that number ("#1003" -> "5000000003"; ``store/orders.py``); else ``query`` itself."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from ..config import load_config
    from ..store import Store
    from ..store.orders import find_orders, order_label
    from ..store.store import resolve_url

    loaded = load_config(config_path, check_mappings=False)
    tenant_id, _, conn_name = name.rpartition("/")
    pipelines = [
        (t.id, p.id) for t, p in loaded.pipelines()
        if p.source == conn_name and (not tenant_id or t.id == tenant_id)
    ]  # fmt: skip
    url = make_url(resolve_url(loaded.config.database))
    if not pipelines or (
        url.get_backend_name() == "sqlite" and not Path(url.database or ":memory:").exists()
    ):
        return query
    store = Store(loaded.config.database)
    try:
        found = find_orders(store, query, pipelines=[p for _, p in pipelines])
    except SQLAlchemyError:  # a store never migrated: nothing seen yet
        return query
    finally:
        store.close()
    if len({(r.tenant_id, r.external_id) for r in found}) > 1:
        err_console.print(f"[red]error:[/] {query!r} names several orders; write TENANT/NAME:")
        for r in found:
            err_console.print(f"  {order_label(r)} in {r.tenant_id}/{r.pipeline_id}")
        raise typer.Exit(2)
    return found[0].external_id if found else query


def _fetch_order(config_path: Path, name: str, external_id: str) -> Any:
    """Read one order through the source connector (as the engine would)."""
    import anyio

    from ..canonical import EntityType

    external_id = _known_order_id(config_path, name, external_id)
    source = _connector(config_path, name, "source")

    async def fetch() -> Any:
        try:
            return await source.fetch(EntityType.ORDER, external_id)
        finally:
            await source.aclose()

    return anyio.run(fetch)


@app.command()
def preview(
    file: Annotated[Path, typer.Argument(help="Mapping file (or a preset name).")],
    order_file: Annotated[
        Path | None, typer.Option("--order", help="A canonical order as JSON (Order model).")
    ] = None,
    source_id: Annotated[
        str | None,
        typer.Option(
            "--source-id",
            help="Read this order (its id, or its number once synced) through --source.",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Source connection (NAME or TENANT/NAME) for --source-id."),
    ] = None,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG"),
    ] = Path("ledgerbridge.yaml"),
    policy: Annotated[
        str | None,
        typer.Option(help="invoice | sales_receipt | daily_summary (default: the mapping's)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the preview as JSON.")] = False,
) -> None:
    """Show the canonical order and the exact drafts the mapping produces, side by side.

    The order comes from a canonical JSON file (--order) or is read through a source
    connection of the config (--source-id ID --source NAME).
    """
    from ..canonical import Order
    from .preview import POLICIES, preview_order

    if policy is not None and policy not in POLICIES:
        err_console.print(f"[red]error:[/] --policy must be one of {', '.join(POLICIES)}")
        raise typer.Exit(2)
    if (order_file is None) == (source_id is None) or (source_id and not source):
        err_console.print("[red]error:[/] give --order FILE, or --source-id ID with --source NAME")
        raise typer.Exit(2)
    runtime = _load(_resolve(file))
    if source_id is not None and source is not None:
        try:
            order = _fetch_order(config, source, source_id)
        except LedgerbridgeError as exc:
            raise _fail(exc) from None
    else:
        assert order_file is not None
        try:
            raw = json.loads(order_file.read_text(encoding="utf-8"), parse_float=Decimal)
        except (OSError, ValueError) as exc:
            err_console.print(f"[red]{order_file}[/]: cannot read the order: {exc}")
            raise typer.Exit(1) from None
        try:
            order = Order.model_validate(raw)
        except (ValueError, LedgerbridgeError) as exc:
            err_console.print(f"[red]{order_file}[/]: not a canonical order: {exc}", soft_wrap=True)
            raise typer.Exit(1) from None
    try:
        result = preview_order(order, runtime, policy)
    except LedgerbridgeError as exc:
        missing = getattr(exc, "missing", None)
        if missing:
            err_console.print(f"[yellow]needs_mapping[/] {missing}", highlight=False)
        raise _fail(exc) from None
    data = result.as_json()
    if as_json:
        console.print_json(json.dumps(data, default=str))
        return
    _render(data)


def _render(data: dict[str, Any]) -> None:
    def block(value: Any) -> Syntax:
        return Syntax(json.dumps(value, indent=2, default=str), "json", word_wrap=True)

    console.print(
        f"policy: [bold]{data['policy']}[/]   planner: {data['planner']}", highlight=False
    )
    if data["skipped"]:
        console.print(f"[yellow]skipped[/]: {data['skipped']}", highlight=False)
    table = Table(title="canonical order -> target payloads", expand=True)
    table.add_column("canonical order", ratio=1)
    table.add_column("target payloads", ratio=1)
    payloads: list[Any] = []
    if data["contact"] is not None:
        payloads += ["contact", block(data["contact"])]
    for item in data["items"]:
        payloads += ["item", block(item)]
    for write in data["writes"]:
        payloads += [f"{write['operation']}: {write['reason']}", block(write["draft"])]
    table.add_row(block(data["order"]), Group(*payloads))
    console.print(table)
    lookups = Table(title="lookups that fired")
    for column in ("subject", "table", "key", "value", "via"):
        lookups.add_column(column)
    for hit in data["lookups"]:
        lookups.add_row(hit["subject"], hit["table"], hit["key"], str(hit["value"]), hit["via"])
    console.print(lookups)


@app.command("init")
def init_mapping(
    file: Annotated[Path, typer.Argument(help="Where to write the starter mapping.")],
    against: Annotated[
        str,
        typer.Option(
            "--against",
            help="Target connection (NAME or TENANT/NAME) whose taxes, accounts, payment "
            "modes, currencies and custom fields to read.",
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Source connection whose recent orders give the tax titles and rates, "
            "gateways, statuses and currencies to match.",
        ),
    ] = None,
    extends: Annotated[
        str | None,
        typer.Option(help="Preset to extend (default: <source platform>-to-<target platform>)."),
    ] = None,
    orders: Annotated[int, typer.Option(help="Recent orders to read from the source.")] = 200,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="Config file.", envvar="LEDGERBRIDGE_CONFIG"),
    ] = Path("ledgerbridge.yaml"),
) -> None:
    """Write a starter mapping from the organisation and the store: every lookup filled
    where a match is found, a commented TODO where none is."""
    from .init import build_starter

    if file.exists() and not force:
        err_console.print(f"[red]error:[/] {file} exists; use --force to overwrite it")
        raise typer.Exit(1)
    try:
        text, todos, summary = build_starter(
            config, against, source, extends, orders, _connector, _platform
        )
    except LedgerbridgeError as exc:
        raise _fail(exc) from None
    file.write_text(text, encoding="utf-8")
    try:
        _load_checked(file)
    except ConfigError as exc:  # a bug here, not the user's: say so plainly
        file.rename(file.with_suffix(file.suffix + ".rejected"))
        raise _fail(exc) from None
    console.print(f"wrote {file}: {summary}", highlight=False, soft_wrap=True)
    for todo in todos:
        console.print(f"  TODO: {todo}", highlight=False, soft_wrap=True, markup=False)
    console.print(
        f"next: fix the TODOs, then `ledgerbridge mappings validate {file} --against {against}`",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command("presets")
def list_presets(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the presets a pipeline's `mapping:` or a mapping's `extends:` can name: those
    shipped with ledgerbridge and those installed plugins ship."""
    from ..plugins import get_registry

    registry = get_registry()
    rows = [
        {"name": name, "shipped_by": who, "path": str(registry.preset(name))}
        for name, who in registry.preset_names().items()
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("preset", "shipped by", "file")
    for row in rows:
        table.add_row(row["name"], row["shipped_by"], row["path"])
    console.print(table)


def _load_checked(file: Path) -> Any:
    from .loader import load_mapping

    return load_mapping(file)


def _platform(config_path: Path, name: str) -> str:
    """The platform of connection ``name`` (NAME or TENANT/NAME) in the config."""
    from ..config import load_config

    loaded = load_config(config_path, check_mappings=False)
    tenant_id, _, conn_name = name.rpartition("/")
    for tenant in loaded.config.tenants:
        if conn_name in tenant.connections and (not tenant_id or tenant.id == tenant_id):
            return tenant.connections[conn_name].platform
    raise ConfigError(f"no connection {name!r} in {config_path}")
