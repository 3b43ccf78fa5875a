"""Catalog pipelines in ``ledgerbridge.yaml`` (``kind: catalog``; orders stay the default).

A catalog pipeline lists with the order pipelines of a tenant, so the positions in the file
stay the ones a person sees; the loader takes them out before the order schema validates
the rest and checks them here:

    - id: acme-catalog
      kind: catalog
      connections: [zoho, shop]
      ownership: {name: shop, description: shop, price: zoho, tax: zoho, stock: zoho,
                  status: shop}
      on_drift: revert        # or: log
      approve: auto           # or: manual

An owner is named by connection, or by platform when only one of the two connections is
on it.  ``check`` refuses a field owned by both sides, by neither connection, or by a side
whose connector cannot read it (or whose other side cannot write it), at
``file:line:column``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, ValidationError

from ..contracts.catalog import CatalogField
from ..errors import SourceLocation
from ..plugins import Registry
from ..yamlfile import Loc, YamlDocument
from .schema import Duration, Identifier, Strict, TenantConfig


class CatalogPipelineConfig(Strict):
    id: Identifier
    kind: Literal["catalog"]
    connections: list[Identifier] = Field(min_length=2, max_length=2)
    ownership: dict[CatalogField, Identifier | list[Identifier]]
    # A field changed on the side that does not own it: put the owner's value back, or
    # leave it and log it (audit event ``catalog_drift``).
    on_drift: Literal["revert", "log"] = "revert"
    # manual: planned writes wait for ``ledgerbridge catalog approve``.
    approve: Literal["auto", "manual"] = "auto"
    interval: Duration = timedelta(minutes=15)
    # How often a run reads every product of both sides instead of the changes since the
    # checkpoint: finds what the change feeds miss (deleted products; storefront edits that
    # do not move a product's modified time) -- catalog/gone.py.
    full_read_every: Duration = timedelta(days=1)
    enabled: bool = True

    def owner(self, field: CatalogField) -> str:
        """The connection owning ``field`` (after ``check``: exactly one, by name)."""
        value = self.ownership[field]
        assert isinstance(value, str)
        return value

    def other(self, connection: str) -> str:
        a, b = self.connections
        return b if connection == a else a


@dataclass(frozen=True)
class CatalogEntry:
    """A checked catalog pipeline, its tenant and where it is in the file."""

    tenant: TenantConfig
    pipeline: CatalogPipelineConfig
    at: Loc


def split_catalogs(doc: YamlDocument) -> tuple[YamlDocument, list[tuple[int, int, Any]]]:
    """The document without its catalog pipelines (positions of the order pipelines after
    them moved with their indices, so errors still name the right line), and those as
    (tenant index, pipeline index, raw value)."""
    data, found = _split(doc.data)
    if not found:
        return YamlDocument(doc.path, data, doc.positions, doc.interpolated), found
    moved: dict[tuple[int, int], int] = {}  # (tenant, new index) -> index in the file
    for ti, tenant in enumerate(data["tenants"]):
        if not isinstance(tenant, dict) or not isinstance(tenant.get("pipelines"), list):
            continue
        taken = {pi for t, pi, _ in found if t == ti}
        kept = [pi for pi in range(len(tenant["pipelines"]) + len(taken)) if pi not in taken]
        moved.update({(ti, new): old for new, old in enumerate(kept)})
    positions = {}
    for loc, pos in doc.positions.items():
        if (
            len(loc) >= 4
            and loc[0] == "tenants"
            and loc[2] == "pipelines"
            and any(loc[1] == t and loc[3] == pi for t, pi, _ in found)
        ):
            continue
        positions[loc] = pos
    for (ti, new), old in moved.items():
        prefix = ("tenants", ti, "pipelines", old)
        for loc, pos in doc.positions.items():
            if loc[:4] == prefix:
                positions[("tenants", ti, "pipelines", new, *loc[4:])] = pos
    return YamlDocument(doc.path, data, positions, set(doc.interpolated)), found


def _split(data: Any) -> tuple[Any, list[tuple[int, int, Any]]]:
    """Data of the wrong shape is returned unchanged for the schema to report."""
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), list):
        return data, []
    found: list[tuple[int, int, Any]] = []
    tenants: list[Any] = []
    for ti, tenant in enumerate(data["tenants"]):
        if not isinstance(tenant, dict) or not isinstance(tenant.get("pipelines"), list):
            tenants.append(tenant)
            continue
        kept = []
        for pi, pipe in enumerate(tenant["pipelines"]):
            if isinstance(pipe, dict) and pipe.get("kind") == "catalog":
                found.append((ti, pi, pipe))
            else:
                kept.append(_without_kind(pipe))
        tenants.append({**tenant, "pipelines": kept})
    return {**data, "tenants": tenants}, found


def _without_kind(pipe: Any) -> Any:
    """``kind: orders`` spelled out: the default, dropped before the order schema."""
    if isinstance(pipe, dict) and pipe.get("kind") == "orders":
        return {k: v for k, v in pipe.items() if k != "kind"}
    return pipe


def load_catalogs(
    raw: list[tuple[int, int, Any]],
    tenants: list[TenantConfig],
    doc: YamlDocument,
    registry: Registry,
    problems: list[tuple[SourceLocation, str]],
) -> list[CatalogEntry]:
    """Validate and cross-check each catalog pipeline; problems are appended, each with
    its position."""
    entries: list[CatalogEntry] = []
    seen = {p.id for t in tenants for p in t.pipelines}
    for ti, pi, value in raw:
        at: Loc = ("tenants", ti, "pipelines", pi)
        try:
            pipe = CatalogPipelineConfig.model_validate(value)
        except ValidationError as exc:
            problems.extend(doc.validation_error(exc, at, CatalogPipelineConfig).problems)
            continue
        if pipe.id in seen:
            problems.append((doc.locate((*at, "id")), f"pipeline id {pipe.id!r} is used twice"))
        seen.add(pipe.id)
        if ti >= len(tenants):
            continue
        tenant = tenants[ti]
        before = len(problems)
        resolved = _check(pipe, tenant, at, doc, registry, problems)
        if len(problems) == before and resolved is not None:
            entries.append(CatalogEntry(tenant, resolved, at))
    return entries


def _check(
    pipe: CatalogPipelineConfig,
    tenant: TenantConfig,
    at: Loc,
    doc: YamlDocument,
    registry: Registry,
    problems: list[tuple[SourceLocation, str]],
) -> CatalogPipelineConfig | None:
    a, b = pipe.connections
    if a == b:
        problems.append((doc.locate((*at, "connections")), "the two connections must differ"))
        return None
    for i, name in enumerate(pipe.connections):
        conn = tenant.connections.get(name)
        spec = registry.connectors.get(conn.platform) if conn else None
        if conn is None:
            known = ", ".join(sorted(tenant.connections)) or "none"
            problems.append(
                (
                    doc.locate((*at, "connections", i)),
                    f"{name!r} is not a connection of tenant {tenant.id!r} (connections: {known})",
                )
            )
        elif spec is not None and spec.catalog is None:
            problems.append(
                (
                    doc.locate((*at, "connections", i)),
                    f"connection {name!r} ({conn.platform}) cannot take part in a catalog "
                    "pipeline: its connector declares no catalog reads or writes",
                )
            )
    specs = {}
    for name in pipe.connections:
        conn = tenant.connections.get(name)
        spec = registry.connectors.get(conn.platform) if conn else None
        if spec is None or spec.catalog is None:
            return None
        specs[name] = spec.catalog
    owners: dict[CatalogField, str] = {}
    for field, named_owner in pipe.ownership.items():
        where = (*at, "ownership", field.value)
        value = named_owner
        if isinstance(value, list):
            named = {_side(v, pipe, tenant) or v for v in value}
            if len(named) > 1:
                problems.append(
                    (
                        doc.locate(where),
                        f"{field.value!r} is owned by both sides ({', '.join(value)}); "
                        "a field has exactly one owner",
                    )
                )
                continue
            value = value[0] if value else ""
        owner = _side(value, pipe, tenant)
        if owner is None:
            problems.append(
                (
                    doc.locate(where),
                    f"owner {value!r} of {field.value!r} is neither connection of this "
                    f"pipeline ({a}, {b}) nor the platform of exactly one of them",
                )
            )
            continue
        other = pipe.other(owner)
        if field not in specs[owner].reads:
            problems.append(
                (
                    doc.locate(where),
                    f"{owner!r} ({tenant.connections[owner].platform}) cannot read "
                    f"{field.value!r}, so it cannot own it (it reads: "
                    f"{', '.join(sorted(f.value for f in specs[owner].reads)) or 'nothing'})",
                )
            )
        elif field not in specs[other].writes:
            problems.append(
                (
                    doc.locate(where),
                    f"{other!r} ({tenant.connections[other].platform}) cannot write "
                    f"{field.value!r}, so {owner!r} cannot own it for this pair (it writes: "
                    f"{', '.join(sorted(f.value for f in specs[other].writes)) or 'nothing'})",
                )
            )
        else:
            owners[field] = owner
    if not owners:
        if pipe.ownership:
            return None
        problems.append((doc.locate((*at, "ownership")), "name an owner for at least one field"))
        return None
    return pipe.model_copy(update={"ownership": dict(owners)})


def _side(value: str, pipe: CatalogPipelineConfig, tenant: TenantConfig) -> str | None:
    """The connection ``value`` names: itself, or the one connection on that platform."""
    if value in pipe.connections:
        return value
    on = [
        n
        for n in pipe.connections
        if n in tenant.connections and tenant.connections[n].platform == value
    ]
    return on[0] if len(on) == 1 else None
