"""How a plugin describes a connector to the registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .catalog import CatalogSpec
from .context import ConnectorContext
from .source import Source
from .target import Target


class ConnectorKind(StrEnum):
    SOURCE = "source"
    TARGET = "target"


class EmptySettings(BaseModel):
    """For connectors without settings or secrets."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector as registered by a plugin.

    ``settings_model``/``secrets_model`` validate a connection's YAML so that
    ``ledgerbridge check`` catches a wrong key before a run does.
    ``status="shell"`` marks a connector whose body is not built yet: it is
    listed (clearly marked) but cannot be instantiated.
    ``emulator`` builds the ASGI app behind ``ledgerbridge sandbox NAME`` (``orders=N``
    seeds that many orders where the platform has orders); ``sandbox_info(url)`` says
    what a config needs to reach it (printed when the sandbox starts).
    ``account_settings`` names the settings that together identify the account
    a connection reaches on the platform (Zoho Books: ``data_center`` and
    ``organization_id``).  An account is bound to one tenant: the config loader,
    the store and the engine refuse a second tenant on it (docs/configuration.md,
    "One organisation, one tenant").
    """

    name: str
    kind: ConnectorKind
    title: str
    factory: Callable[[ConnectorContext], Source | Target] | None = None
    settings_model: type[BaseModel] = EmptySettings
    secrets_model: type[BaseModel] = EmptySettings
    capabilities: frozenset[str] = frozenset()
    status: Literal["ready", "shell"] = "ready"
    description: str = ""
    emulator: Callable[..., Any] | None = None
    sandbox_info: Callable[[str], Any] | None = None  # url -> ledgerbridge.sandbox.SandboxInfo
    account_settings: tuple[str, ...] = ()
    # What the connector reads and writes in a catalog pipeline (docs/catalog.md); None: none.
    catalog: CatalogSpec | None = None
    plugin: str = field(default="", compare=False)
    version: str = field(default="", compare=False)

    def account_key(self, settings: Mapping[str, Any] | BaseModel) -> str | None:
        """The account a connection with these settings reaches, as one string
        (``zohobooks:data_center=eu,organization_id=20234695``).

        ``None`` when the connector declares no account settings, or when the settings
        are invalid or leave a part unset (nothing is written until they name one).
        Defaults of the settings model count: an unset ``data_center`` is ``com``.
        """
        if not self.account_settings:
            return None
        if not isinstance(settings, BaseModel):
            try:
                settings = self.settings_model.model_validate(dict(settings))
            except ValidationError:
                return None
        parts = []
        for name in self.account_settings:
            value = getattr(settings, name, None)
            if value is None or str(value) == "":
                return None
            parts.append(f"{name}={value}")
        return f"{self.name}:{','.join(parts)}"

    def build(self, context: ConnectorContext) -> Source | Target:
        if self.factory is None or self.status == "shell":
            from ..errors import PluginError

            raise PluginError(
                f"connector {self.name!r} is a shell: its implementation has not landed yet"
            )
        return self.factory(context)
