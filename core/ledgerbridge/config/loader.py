"""Load and check ``ledgerbridge.yaml``.

Three passes, each reporting *every* problem with ``file:line:column``:
1. YAML syntax and ``${ENV}`` references (``yamlfile``);
2. the schema (``schema.py``);
3. cross-references: a pipeline's connections exist and have the right kind,
   each platform is an installed connector, settings/secrets match that
   connector's models, the mapping file exists, and no two tenants reach the
   same target account unless both declare it shared (``accounts.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..contracts.spec import ConnectorKind, ConnectorSpec
from ..errors import ConfigError, SourceLocation
from ..plugins import BUILTIN_PRESETS_DIR, Registry, get_registry
from ..yamlfile import YamlDocument, load_yaml
from .accounts import check_accounts
from .catalog import CatalogEntry, load_catalogs, split_catalogs
from .exposure import warn_about_exposure
from .schema import ConnectionConfig, LedgerbridgeConfig, PipelineConfig, TenantConfig

DEFAULT_CONFIG = "ledgerbridge.yaml"
MAPPINGS_DIR = BUILTIN_PRESETS_DIR


@dataclass(frozen=True)
class LoadedConfig:
    """A checked config and where it was read from."""

    path: Path
    config: LedgerbridgeConfig
    document: YamlDocument
    # ``kind: catalog`` pipelines (config/catalog.py), checked; order pipelines are above.
    catalogs: tuple[CatalogEntry, ...] = ()

    def tenant(self, tenant_id: str) -> TenantConfig:
        for tenant in self.config.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise ConfigError(f"no tenant {tenant_id!r} in {self.path}")

    def pipelines(self) -> list[tuple[TenantConfig, PipelineConfig]]:
        return [(t, p) for t in self.config.tenants for p in t.pipelines]

    def mapping_path(self, pipeline: PipelineConfig) -> Path:
        return resolve_mapping(pipeline.mapping, self.path.parent)


def resolve_mapping(name: str, base: Path, registry: Registry | None = None) -> Path:
    """A mapping is a path relative to the config, or the name of a preset: shipped with
    ledgerbridge, or by an installed plugin (the ``register_presets`` hook)."""
    candidate = (base / name).resolve()
    if candidate.exists():
        return candidate
    preset = (registry or get_registry()).preset(name)
    return preset if preset is not None else candidate


def config_database(path: str | Path) -> str | None:
    """The ``database:`` of a config file, read without validating the rest (``connect`` and
    ``migrate`` run before the config's mappings or every secret exist)."""
    doc = load_yaml(Path(path))
    data = doc.data if isinstance(doc.data, dict) else {}
    value = data.get("database")
    return str(value) if value else None


def load_config(
    path: str | Path = DEFAULT_CONFIG,
    registry: Registry | None = None,
    *,
    check_mappings: bool = True,
) -> LoadedConfig:
    """Load and check a config; ``check_mappings=False`` leaves the pipelines' mapping files
    unread (``mappings init`` writes the file a pipeline names; ``mappings validate`` checks
    the one it is given)."""
    path = Path(path)
    doc = load_yaml(path)
    if doc.data is None:
        raise doc.error((), "the file is empty; run `ledgerbridge init` for a starter config")
    orders_doc, raw_catalogs = split_catalogs(doc)
    try:
        config = LedgerbridgeConfig.model_validate(orders_doc.data)
    except ValidationError as exc:
        raise orders_doc.validation_error(exc, model=LedgerbridgeConfig) from exc
    registry = registry or get_registry()
    problems = _cross_check(config, orders_doc, path, registry, check_mappings)
    catalogs = load_catalogs(raw_catalogs, config.tenants, doc, registry, problems)
    if problems:
        raise ConfigError(problems)
    warn_about_exposure(path, config, doc)
    return LoadedConfig(path, config, doc, tuple(catalogs))


def _cross_check(
    config: LedgerbridgeConfig,
    doc: YamlDocument,
    path: Path,
    registry: Registry,
    check_mappings: bool = True,
) -> list[tuple[SourceLocation, str]]:
    problems: list[tuple[SourceLocation, str]] = []
    seen_tenants: set[str] = set()
    seen_pipelines: set[str] = set()
    for ti, tenant in enumerate(config.tenants):
        here: tuple[str | int, ...] = ("tenants", ti)
        if tenant.id in seen_tenants:
            problems.append((doc.locate((*here, "id")), f"tenant id {tenant.id!r} is used twice"))
        seen_tenants.add(tenant.id)
        specs: dict[str, ConnectorSpec] = {}
        for name, conn in tenant.connections.items():
            at: tuple[str | int, ...] = (*here, "connections", name)
            spec = _check_connection(conn, at, doc, registry, problems)
            if spec is not None:
                specs[name] = spec
        for pi, pipe in enumerate(tenant.pipelines):
            at = (*here, "pipelines", pi)
            if pipe.id in seen_pipelines:
                problems.append((doc.locate((*at, "id")), f"pipeline id {pipe.id!r} is used twice"))
            seen_pipelines.add(pipe.id)
            for role, kind in (("source", ConnectorKind.SOURCE), ("target", ConnectorKind.TARGET)):
                conn_name = getattr(pipe, role)
                if conn_name not in tenant.connections:
                    known = ", ".join(sorted(tenant.connections)) or "none"
                    problems.append(
                        (
                            doc.locate((*at, role)),
                            f"{role} {conn_name!r} is not a connection of tenant {tenant.id!r} "
                            f"(connections: {known})",
                        )
                    )
                elif conn_name in specs and specs[conn_name].kind is not kind:
                    problems.append(
                        (
                            doc.locate((*at, role)),
                            f"{role} {conn_name!r} uses platform "
                            f"{tenant.connections[conn_name].platform!r}, "
                            f"which is a {specs[conn_name].kind.value} connector, "
                            f"not a {kind.value}",
                        )
                    )
            if pipe.posting_policy == "daily_summary":
                problems += _trigger_problem(pipe, doc, at, "")
            mapping = resolve_mapping(pipe.mapping, path.parent, registry)
            if not check_mappings:
                continue
            if not mapping.exists():
                problems.append(
                    (
                        doc.locate((*at, "mapping")),
                        f"mapping file {pipe.mapping!r} not found (looked in {path.parent} "
                        "and the presets: " + ", ".join(registry.preset_names()) + ")",
                    )
                )
            else:
                problems += _check_mapping(mapping, pipe, tenant, doc, (*at, "mapping"))
    return problems + check_accounts(config, doc, registry)


def _check_mapping(
    mapping: Path,
    pipe: PipelineConfig,
    tenant: TenantConfig,
    doc: YamlDocument,
    at: tuple[str | int, ...],
) -> list[tuple[SourceLocation, str]]:
    """The mapping file itself (with its own positions), and that it is for this pipeline's pair."""
    from ..mapping import load_mapping

    try:
        runtime = load_mapping(mapping)
    except ConfigError as exc:
        return list(exc.problems)
    problems: list[tuple[SourceLocation, str]] = []
    if pipe.posting_policy is None and runtime.mapping.posting_policy == "daily_summary":
        problems += _trigger_problem(pipe, doc, at[:-1], f" (its mapping {pipe.mapping} names it)")
    for role in ("source", "target"):
        conn = tenant.connections.get(getattr(pipe, role))
        named = getattr(runtime.mapping, role)
        if conn is not None and conn.platform != named:
            problems.append(
                (
                    doc.locate((*at, "<value>")),
                    f"mapping {pipe.mapping!r} is for {role} {named!r}, but {role} "
                    f"{getattr(pipe, role)!r} is a {conn.platform} connection",
                )
            )
    return problems


def _trigger_problem(
    pipe: PipelineConfig, doc: YamlDocument, at: tuple[str | int, ...], whose: str
) -> list[tuple[SourceLocation, str]]:
    """A daily summary has no posting trigger: each day is booked when it closes, with
    whatever the day's orders then say was sold, captured and refunded (docs/engine.md,
    "Posting triggers").  A ``paid`` or ``fulfilled`` trigger would be silently ignored,
    so the config is refused rather than run with it."""
    if pipe.posting_trigger == "placed":
        return []
    return [
        (
            doc.locate((*at, "posting_trigger", "<value>")),
            f"posting_trigger {pipe.posting_trigger!r} does not apply to a daily_summary "
            f"pipeline{whose}: a day is booked when it closes, with what its orders then say "
            "was sold, captured and refunded. Remove posting_trigger, or post per order "
            "(posting_policy: invoice) to wait for payment or shipment",
        )
    ]


def _check_connection(
    conn: ConnectionConfig,
    at: tuple[str | int, ...],
    doc: YamlDocument,
    registry: Registry,
    problems: list[tuple[SourceLocation, str]],
) -> ConnectorSpec | None:
    spec = registry.connectors.get(conn.platform)
    if spec is None:
        known = ", ".join(sorted(registry.connectors)) or "none"
        problems.append(
            (
                doc.locate((*at, "platform")),
                f"platform {conn.platform!r} is not an installed connector (installed: {known})",
            )
        )
        return None
    for part, model in (("settings", spec.settings_model), ("secrets", spec.secrets_model)):
        raw = (
            conn.settings
            if part == "settings"
            else {k: v.get_secret_value() for k, v in conn.secrets.items()}
        )
        try:
            model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(doc.validation_error(exc, (*at, part), model).problems)
    return spec


def connection_models(conn: ConnectionConfig, spec: ConnectorSpec) -> tuple[BaseModel, BaseModel]:
    """The connection's settings and secrets, validated by the connector's own models."""
    settings = spec.settings_model.model_validate(conn.settings)
    secrets = spec.secrets_model.model_validate(
        {k: v.get_secret_value() for k, v in conn.secrets.items()}
    )
    return settings, secrets
