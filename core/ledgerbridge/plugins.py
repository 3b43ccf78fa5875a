"""Load plugins and hold the connector registry.

Plugins are modules listed in the ``ledgerbridge`` entry-point group -- the
built-in connectors included, so they load exactly as a third-party package
would.  ``LEDGERBRIDGE_LOAD_PLUGINS`` restricts loading to a comma-separated
list of entry-point names (empty: load none).  A plugin that fails to import
or register becomes a warning naming it, never a crash.
"""

from __future__ import annotations

import logging
import os
import warnings
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .contracts.spec import ConnectorKind, ConnectorSpec
from .errors import PluginError

ENTRY_POINT_GROUP = "ledgerbridge"
ALLOW_LIST_ENV = "LEDGERBRIDGE_LOAD_PLUGINS"
# The presets shipped with ledgerbridge: the repository's mappings/ through the package's
# presets link in a checkout, the copied files in an installed wheel.
BUILTIN_PRESETS_DIR = (Path(__file__).parent / "presets").resolve()

log = logging.getLogger(__name__)


class PluginWarning(UserWarning):
    """A plugin was skipped because it is broken."""


class Registry:
    """The loaded plugins and the connectors they registered."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.connectors: dict[str, ConnectorSpec] = {}
        # Mapping presets shipped by plugins (register_presets): name -> (file, plugin).
        self.presets: dict[str, tuple[Path, str]] = {}
        self.problems: list[str] = []

    # ----------------------------------------------------------------- loading

    def load_entry_points(self, allow: set[str] | None = None) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if allow is not None and ep.name not in allow:
                continue
            if self.pm.has_plugin(ep.name):
                continue
            try:
                module = ep.load()
                self.pm.register(module, name=ep.name)
            except Exception as exc:
                self._warn(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc!r}")
                continue
            self._collect(ep.name, _version_of(ep))

    def register_module(self, module: Any, name: str, version: str = "") -> None:
        """Register an in-process plugin (tests, host products embedding the engine)."""
        self.pm.register(module, name=name)
        self._collect(name, version)

    def _collect(self, plugin: str, version: str) -> None:
        found: list[ConnectorSpec] = []
        presets: list[tuple[str, Path]] = []

        def register(spec: ConnectorSpec) -> None:
            if not isinstance(spec, ConnectorSpec):
                raise PluginError(f"register() expects a ConnectorSpec, got {type(spec).__name__}")
            found.append(spec)

        def register_preset(name: str, path: Path) -> None:
            if not isinstance(name, str) or not name or "/" in name or name.endswith(".yaml"):
                raise PluginError(f"register_preset() expects a name like 'x-to-y', got {name!r}")
            if not Path(path).is_file():
                raise PluginError(f"preset {name!r}: {path} is not a file")
            presets.append((name, Path(path)))

        caller = self.pm.subset_hook_caller
        others = [p for p in self.pm.get_plugins() if self.pm.get_name(p) != plugin]
        try:
            caller("register_sources", others)(register=register)
            caller("register_targets", others)(register=register)
            caller("register_presets", others)(register=register_preset)
        except Exception as exc:
            self.pm.unregister(name=plugin)
            self._warn(f"plugin {plugin!r} failed while registering connectors: {exc!r}")
            return
        for spec in found:
            existing = self.connectors.get(spec.name)
            if existing is not None:
                self._warn(
                    f"connector {spec.name!r} from plugin {plugin!r} ignored: "
                    f"already registered by {existing.plugin!r}"
                )
                continue
            self.connectors[spec.name] = _stamp(spec, plugin, version)
        for name, path in presets:
            self._add_preset(name, path, plugin)

    def _add_preset(self, name: str, path: Path, plugin: str) -> None:
        if (BUILTIN_PRESETS_DIR / f"{name}.yaml").exists():
            self._warn(f"preset {name!r} from plugin {plugin!r} ignored: ledgerbridge ships one")
        elif name in self.presets:
            self._warn(
                f"preset {name!r} from plugin {plugin!r} ignored: "
                f"already registered by {self.presets[name][1]!r}"
            )
        else:
            self.presets[name] = (path.resolve(), plugin)

    def preset(self, name: str) -> Path | None:
        """The file of a preset by name (``x-to-y`` or ``x-to-y.yaml``): shipped with
        ledgerbridge first, then registered by a plugin."""
        stem = name.removesuffix(".yaml")
        if "/" in stem or "\\" in stem or not stem:
            return None
        builtin = BUILTIN_PRESETS_DIR / f"{stem}.yaml"
        if builtin.is_file():
            return builtin
        found = self.presets.get(stem)
        return found[0] if found else None

    def preset_names(self) -> dict[str, str]:
        """Every preset name with who ships it (``ledgerbridge`` or the plugin)."""
        names = {p.stem: "ledgerbridge" for p in sorted(BUILTIN_PRESETS_DIR.glob("*.yaml"))}
        for name, (_path, plugin) in sorted(self.presets.items()):
            names.setdefault(name, plugin)
        return names

    def _warn(self, message: str) -> None:
        self.problems.append(message)
        log.warning(message)
        warnings.warn(message, PluginWarning, stacklevel=3)

    # ----------------------------------------------------------------- lookups

    def get(self, name: str, kind: ConnectorKind | None = None) -> ConnectorSpec:
        spec = self.connectors.get(name)
        if spec is None or (kind is not None and spec.kind is not kind):
            known = ", ".join(
                sorted(n for n, s in self.connectors.items() if kind is None or s.kind is kind)
            )
            what = f"{kind.value} connector" if kind else "connector"
            raise PluginError(f"no {what} named {name!r} is installed (known: {known or 'none'})")
        return spec

    def of_kind(self, kind: ConnectorKind) -> list[ConnectorSpec]:
        return sorted((s for s in self.connectors.values() if s.kind is kind), key=lambda s: s.name)


def _version_of(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return str(dist.version) if dist is not None else ""


def _stamp(spec: ConnectorSpec, plugin: str, version: str) -> ConnectorSpec:
    from dataclasses import replace

    return replace(spec, plugin=plugin, version=spec.version or version)


def allow_list() -> set[str] | None:
    raw = os.environ.get(ALLOW_LIST_ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded from entry points on first use."""
    global _registry  # noqa: PLW0603 - one registry per process, like llm's pm
    if _registry is None:
        registry = Registry()
        registry.load_entry_points(allow_list())
        _registry = registry
    return _registry
