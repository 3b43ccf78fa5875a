"""Load a mapping file: YAML with positions, ``extends:`` layering, schema, cross-checks.

A tenant file ``extends:`` a preset (or another file) and states only what
differs: mappings merge key by key, a list replaces the list it overrides, and
``null`` removes an inherited key (e.g. turns off an inherited filter).  Every
value keeps the file and position it came from, so an error in an inherited
preset names the preset's line, and one in the tenant file names the tenant's.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, SourceLocation
from ..plan import LookupKind
from ..yamlfile import MAX_REPORTED_PROBLEMS, Loc, YamlDocument, load_yaml
from .expressions import Expression
from .runtime import MappingRuntime, NamedReference
from .schema import MappingFile

MAX_EXTENDS_DEPTH = 8


class MappingDocument(YamlDocument):
    """A YAML document merged from several files; each position remembers its file."""

    def __init__(self, path: str) -> None:
        super().__init__(path, None)
        self.files: dict[Loc, str] = {}

    def locate(self, loc: Loc) -> SourceLocation:
        probe = tuple(loc)
        while probe:
            if probe in self.positions:
                line, col = self.positions[probe]
                return SourceLocation(self.files.get(probe, self.path), line, col)
            probe = probe[:-1]
        return SourceLocation(self.path, 1, 1)

    def validation_error(
        self, exc: ValidationError, prefix: Loc = (), model: type[BaseModel] | None = None
    ) -> ConfigError:
        """As ``YamlDocument``'s, but "did you mean" offers the keys as written in YAML
        (aliases such as ``shipping.as``), not Python field names."""
        base = super().validation_error(exc, prefix, None)
        if model is None:
            return base
        problems = []
        errors = exc.errors(include_url=False)[:MAX_REPORTED_PROBLEMS]
        listed, more = base.problems[: len(errors)], base.problems[len(errors) :]
        for err, (where, message) in zip(errors, listed, strict=True):
            hint = ""
            if err["type"] == "extra_forbidden":
                inner = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
                if not inner or inner[-1] != err["loc"][-1]:
                    inner = (*inner, err["loc"][-1])  # a key that looks like a tag: ``exte[ds``
                hint = _did_you_mean(str(inner[-1]), _yaml_keys(model, inner[:-1]))
            problems.append((where, message + hint))
        return ConfigError(problems + more)


def _yaml_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys a YAML mapping may hold at ``loc`` (field aliases where set)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        info = {(f.alias or n): f for n, f in current.model_fields.items()}.get(str(part))
        current = _model_in(info.annotation) if info is not None else None
    if current is None or not hasattr(current, "model_fields"):
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def resolve_extends(name: str, base: Path) -> Path:
    """``extends:`` names a preset (``shopify-to-zohobooks``, or one a plugin ships) or a path."""
    from ..config.loader import resolve_mapping

    return resolve_mapping(name, base)


def load_document(path: str | Path, _chain: tuple[Path, ...] = ()) -> MappingDocument:
    """The merged raw data of ``path`` and everything it extends, with positions."""
    path = Path(path)
    doc = load_yaml(path)
    if doc.data is None:
        raise doc.error((), "the mapping file is empty")
    if not isinstance(doc.data, dict):
        raise doc.error((), "a mapping file must be a YAML mapping (key: value) at the top level")
    merged = MappingDocument(str(path))
    parent_name = doc.data.get("extends")
    if parent_name is not None:
        if not isinstance(parent_name, str):
            raise doc.error(("extends", "<value>"), "extends: expected a preset name or a path")
        parent = resolve_extends(parent_name, path.parent)
        here = (*_chain, path.resolve())
        if not parent.exists():
            raise doc.error(
                ("extends", "<value>"),
                f"extends: {parent_name!r} is neither a file next to {path.name} "
                "nor a preset (`ledgerbridge mappings presets` lists them)",
            )
        if parent.resolve() in here or len(here) > MAX_EXTENDS_DEPTH:
            raise doc.error(("extends", "<value>"), f"extends: {parent_name!r} makes a cycle")
        base = load_document(parent, here)
        merged.data = base.data
        merged.positions = dict(base.positions)
        merged.files = dict(base.files)
    else:
        merged.data = {}
    merged.data = _overlay(merged.data, doc.data, (), merged, doc)
    return merged


def _overlay(base: Any, over: Any, loc: Loc, merged: MappingDocument, doc: YamlDocument) -> Any:
    return _Overlay(merged, doc).merge(base, over, loc)


class _Overlay:
    """Merges ``doc`` over ``merged`` and carries the positions along.

    Positions are found through an index of every position key by its prefixes, so
    merging a file of N keys costs O(N), not O(N^2) (a scan of every position per key).
    """

    def __init__(self, merged: MappingDocument, doc: YamlDocument) -> None:
        self.merged, self.doc = merged, doc
        self.under: dict[Loc, list[Loc]] = {}
        for key in doc.positions:
            for n in range(len(key) + 1):
                self.under.setdefault(key[:n], []).append(key)

    def merge(self, base: Any, over: Any, loc: Loc) -> Any:
        if isinstance(base, dict) and isinstance(over, dict):
            result = dict(base)
            for key, value in over.items():
                child = (*loc, key)
                self.copy(child, only_key=True)
                if value is None and key in base and child != ("extends",):
                    _drop_positions(child, self.merged)
                    result.pop(key)
                elif isinstance(result.get(key), dict) and isinstance(value, dict):
                    result[key] = self.merge(result[key], value, child)
                else:
                    if key in base:  # only an inherited key has positions to drop
                        _drop_positions(child, self.merged)
                    self.copy(child)
                    result[key] = value
            return result
        _drop_positions(loc, self.merged)
        self.copy(loc)
        return over

    def copy(self, loc: Loc, only_key: bool = False) -> None:
        if only_key:
            keys = [k for k in (loc, (*loc, "<value>")) if k in self.doc.positions]
        else:
            keys = self.under.get(loc, [])
        for key in keys:
            self.merged.positions[key] = self.doc.positions[key]
            self.merged.files[key] = self.doc.path


def _drop_positions(loc: Loc, merged: MappingDocument) -> None:
    n = len(loc)
    for key in [k for k in merged.positions if k[:n] == loc]:
        del merged.positions[key]
        merged.files.pop(key, None)


def parse_mapping(doc: MappingDocument) -> MappingFile:
    """Validate the merged data and cross-check names; every problem at once, with positions."""
    try:
        mapping = MappingFile.model_validate(doc.data)
    except ValidationError as exc:
        raise doc.validation_error(exc, model=MappingFile) from exc
    problems: list[tuple[SourceLocation, str]] = []
    for loc, expr in _expressions(mapping, ()):
        expr.where = ".".join(str(p) for p in loc)
        expr.location = doc.locate((*loc, "<value>"))
        for table, _line in expr.lookup_tables:
            if table not in mapping.lookups.tables:
                problems.append(
                    (
                        expr.location,
                        f"{expr.where}: lookup table {table!r} is not defined under "
                        f"lookups.tables{_did_you_mean(table, list(mapping.lookups.tables))}",
                    )
                )
    problems += _check_tax_names(mapping, doc)
    if problems:
        raise ConfigError(problems)
    return mapping


def _check_tax_names(
    mapping: MappingFile, doc: MappingDocument
) -> list[tuple[SourceLocation, str]]:
    """A rule that names a tax (``tax: VAT 7%``) must name an entry of lookups.taxes."""
    known = [entry.label for entry in mapping.lookups.taxes.entries]
    named: list[tuple[Loc, str]] = []
    if mapping.shipping.tax is not None:
        named.append((("shipping", "tax"), mapping.shipping.tax))
    if mapping.fees.tax is not None:
        named.append((("fees", "tax"), mapping.fees.tax))
    for index, rule in enumerate(mapping.lines.rules):
        if rule.tax is not None:
            named.append((("lines", "rules", index, "tax"), rule.tax))
    for name in mapping.summary.sales_accounts.entries:
        named.append((("summary", "sales_accounts", "entries", name), name))
    problems = []
    match_by = mapping.lookups.taxes.match_by
    for index, entry in enumerate(mapping.lookups.taxes.entries):
        needed = {"rate": entry.rate, "title": entry.title}.get(match_by, True)
        if match_by == "rate" and entry.title is not None:
            needed = True  # matches, by title, a source tax that states no rate
        if needed is None:
            problems.append(
                (
                    doc.locate(("lookups", "taxes", "entries", index)),
                    f"lookups.taxes.entries.{index}: match_by is {match_by!r}, so this entry "
                    f"needs a {match_by!r} or it can never match",
                )
            )
    for loc, name in named:
        if name not in known:
            listed = ", ".join(repr(k) for k in known) or "none"
            problems.append(
                (
                    doc.locate((*loc, "<value>")),
                    f"{'.'.join(str(p) for p in loc)}: unknown tax {name!r}"
                    f"{_did_you_mean(name, known)}; taxes named in lookups.taxes: {listed}",
                )
            )
    return problems


def _did_you_mean(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _expressions(value: Any, loc: Loc) -> Iterator[tuple[Loc, Expression]]:
    """Every compiled expression in the validated mapping, with its key path."""
    if isinstance(value, Expression):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            key = info.alias or name
            yield from _expressions(getattr(value, name), (*loc, key))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _expressions(item, (*loc, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _expressions(item, (*loc, index))


def load_mapping(path: str | Path) -> MappingRuntime:
    """Load, layer, validate and compile a mapping file (``ConfigError`` on any problem)."""
    doc = load_document(path)
    mapping = parse_mapping(doc)
    return MappingRuntime(mapping, str(path), _references(mapping, doc))


def _references(mapping: MappingFile, doc: MappingDocument) -> list[NamedReference]:
    """Every target id / payment mode / currency the mapping names, with its position."""
    taxes, items = (LookupKind.TAXES,), (LookupKind.ITEMS,)
    accounts = (LookupKind.ACCOUNTS, LookupKind.BANK_ACCOUNTS)
    found: list[tuple[tuple[LookupKind, ...], str | None, Loc]] = []
    table = mapping.lookups.taxes
    for i, entry in enumerate(table.entries):
        found.append((taxes, entry.tax_id, ("lookups", "taxes", "entries", i, "tax_id")))
    found.append((taxes, table.default, ("lookups", "taxes", "default")))
    found.append((taxes, table.untaxed, ("lookups", "taxes", "untaxed")))
    found.append((items, mapping.shipping.item_id, ("shipping", "item_id")))
    found.append((accounts, mapping.shipping.account_id, ("shipping", "account_id")))
    found.append((accounts, mapping.lines.item_account_id, ("lines", "item_account_id")))
    found.append(
        (accounts, mapping.refunds.adjustment_account_id, ("refunds", "adjustment_account_id"))
    )
    for i, rule in enumerate(mapping.lines.rules):
        found.append((items, rule.item_id, ("lines", "rules", i, "item_id")))
        found.append((accounts, rule.account_id, ("lines", "rules", i, "account_id")))
    for name, acc in (("fee_accounts", mapping.lookups.fee_accounts),):
        for key, value in acc.entries.items():
            found.append((accounts, value, ("lookups", name, "entries", key)))
        found.append((accounts, acc.default, ("lookups", name, "default")))
    sales = mapping.summary.sales_accounts
    for key, value in sales.entries.items():
        found.append((accounts, value, ("summary", "sales_accounts", "entries", key)))
    found.append((accounts, sales.default, ("summary", "sales_accounts", "default")))
    found.append((accounts, mapping.summary.shipping_account, ("summary", "shipping_account")))
    methods = mapping.lookups.payment_methods
    for key, method in [*methods.entries.items(), ("default", methods.default)]:
        at: Loc = (
            ("lookups", "payment_methods", "default")
            if key == "default"
            else ("lookups", "payment_methods", "entries", key)
        )
        if method is None:
            continue
        found.append(((LookupKind.PAYMENT_MODES,), method.payment_mode, (*at, "payment_mode")))
        found.append((accounts, method.account_id, (*at, "account_id")))
    for i, code in enumerate(mapping.lookups.currencies.accept):
        found.append(((LookupKind.CURRENCIES,), code, ("lookups", "currencies", "accept", i)))
    return [
        NamedReference(kinds, value, ".".join(str(p) for p in loc), doc.locate((*loc, "<value>")))
        for kinds, value, loc in found
        if value is not None
    ]
