"""The hooks a ledgerbridge plugin can implement.

Every hook is documented here *and* in ``docs/plugins.md``; a test fails when
one is not.  Built-in connectors use these same hooks through the same
``ledgerbridge`` entry-point group as any third-party package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pluggy import HookimplMarker, HookspecMarker

from .contracts.spec import ConnectorSpec

hookspec = HookspecMarker("ledgerbridge")
hookimpl = HookimplMarker("ledgerbridge")

Register = Callable[[ConnectorSpec], None]
RegisterPreset = Callable[[str, Path], None]


@hookspec
def register_sources(register: Register) -> None:
    """Register source connectors (storefronts and other systems we read sales from).

    Call ``register(ConnectorSpec(name=..., kind=ConnectorKind.SOURCE, ...))`` once
    per connector. Names are unique across all plugins; a duplicate is reported
    as a warning naming both plugins, and the first registration wins.
    """


@hookspec
def register_targets(register: Register) -> None:
    """Register target connectors (accounting platforms we write to).

    Call ``register(ConnectorSpec(name=..., kind=ConnectorKind.TARGET, ...))`` once
    per connector.
    """


@hookspec
def register_presets(register: RegisterPreset) -> None:
    """Ship mapping presets with a plugin.

    Call ``register("tinyshop-to-zohobooks", path)`` once per preset, ``path`` being a
    YAML file inside the plugin's package (``Path(__file__).parent / "presets" / ...``).
    A pipeline's ``mapping:`` and a mapping's ``extends:`` then name it like a preset
    shipped with ledgerbridge.  A name that a built-in preset or an earlier plugin
    already uses is reported as a warning and ignored.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``ledgerbridge`` CLI.

    ``cli`` is the root ``typer.Typer`` app; add commands or sub-apps to it
    (``cli.command()(fn)`` / ``cli.add_typer(app, name=...)``).
    """
