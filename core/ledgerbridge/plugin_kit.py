"""Ready-made hook implementations, for a plugin module that only declares its connectors.

pluggy reads a plugin module for functions named after the hooks (``hookspecs``).  A
connector's hooks mostly hand over fixed specs or pass the CLI to the connector's own
command module, so they can be made instead of written::

    register_sources = sources(ConnectorSpec(name="acme", kind=ConnectorKind.SOURCE, ...))
    register_commands = commands("ledgerbridge_acme.cli:register")

Every ``ledgerbridge`` command loads every plugin, so what only a run, a sandbox or a
command needs is named by ``"module:attribute"`` and imported on first use (``lazy``,
``sandbox_app``).  Writing the hooks by hand (docs/plugins.md) stays the contract; these
make exactly such functions.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from .contracts.spec import ConnectorKind, ConnectorSpec
from .hookspecs import Register, hookimpl


def lazy(target: str) -> Callable[..., Any]:
    """A callable that imports ``target`` (``"package.module:name"``) on its first call and
    calls it with the same arguments."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"lazy({target!r}): expected 'package.module:name'")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def sources(*specs: ConnectorSpec) -> Callable[[Register], None]:
    """A ``register_sources`` hook registering ``specs`` (each a ``SOURCE``)."""
    return _registering(ConnectorKind.SOURCE, specs)


def targets(*specs: ConnectorSpec) -> Callable[[Register], None]:
    """A ``register_targets`` hook registering ``specs`` (each a ``TARGET``)."""
    return _registering(ConnectorKind.TARGET, specs)


def _registering(kind: ConnectorKind, specs: tuple[ConnectorSpec, ...]) -> Callable[..., None]:
    wrong = [spec.name for spec in specs if spec.kind is not kind]
    if wrong:
        raise ValueError(f"{', '.join(wrong)}: not a {kind} connector")

    @hookimpl
    def register_connectors(register: Register) -> None:
        for spec in specs:
            register(spec)

    return register_connectors


def commands(target: str) -> Callable[[Any], None]:
    """A ``register_commands`` hook that hands the CLI to ``target`` (``"module:function"``,
    imported when the CLI is built)."""
    add = lazy(target)

    @hookimpl
    def register_commands(cli: Any) -> None:
        add(cli)

    return register_commands


def sandbox_app(app: str, seed: str | None = None) -> Callable[..., Any]:
    """``ConnectorSpec.emulator`` for an app factory that takes its state as its first
    argument: ``ledgerbridge sandbox NAME --orders N`` builds the state with
    ``seed(orders=N)``.  Without ``seed`` (a platform with no orders to seed: an accounting
    organisation starts empty) ``orders`` is ignored; without ``--orders`` the app makes its
    own default state."""
    make_app = lazy(app)
    make_state = lazy(seed) if seed else None

    def build(orders: int | None = None) -> Any:
        if orders is None or make_state is None:
            return make_app()
        return make_app(make_state(orders=orders))

    return build
