"""How a plugin describes a connector to the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

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
    ``emulator`` builds the ASGI app behind ``ledgerbridge sandbox NAME``.
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
    plugin: str = field(default="", compare=False)
    version: str = field(default="", compare=False)

    def build(self, context: ConnectorContext) -> Source | Target:
        if self.factory is None or self.status == "shell":
            from ..errors import PluginError

            raise PluginError(
                f"connector {self.name!r} is a shell: its implementation has not landed yet"
            )
        return self.factory(context)
