"""``ledgerbridge api2cart subscribe``: register the webhooks a connection needs.

API2Cart deliveries carry no signature, so the callback URL (the receiver's route
``/webhooks/{tenant}/{connection}/{token}``) ends with the connection's
``secrets.webhook_token``; each event is subscribed once (``webhooks.ensure_webhook``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import anyio
import typer

from ledgerbridge.commands import configured_connection, exit_code
from ledgerbridge.errors import ConfigError, LedgerbridgeError

from .settings import Api2CartSecrets
from .source import Api2CartSource
from .webhooks import ensure_webhook

DEFAULT_EVENTS = ("order.add", "order.update", "order.delete")


def register(cli: typer.Typer) -> None:
    if any(group.name == "api2cart" for group in cli.registered_groups):
        return
    app = typer.Typer(help="API2Cart helpers (webhook subscriptions).", no_args_is_help=True)
    app.command("subscribe")(subscribe)
    cli.add_typer(app, name="api2cart")


def subscribe(
    callback_base: Annotated[
        str,
        typer.Option(help="Public base URL of `ledgerbridge serve`, e.g. https://hooks.acme.io"),
    ],
    config: Annotated[Path, typer.Option("--config", "-c", help="ledgerbridge.yaml")] = Path(
        "ledgerbridge.yaml"
    ),
    tenant: Annotated[str, typer.Option(help="Tenant id.")] = "default",
    connection: Annotated[str, typer.Option(help="API2Cart connection name.")] = "shop",
    event: Annotated[
        list[str] | None, typer.Option(help="entity.action; repeat for several.")
    ] = None,
) -> None:
    """Subscribe this connection's store to webhook events (idempotent)."""
    try:
        for line in anyio.run(
            _subscribe, config, tenant, connection, callback_base, tuple(event or DEFAULT_EVENTS)
        ):
            typer.echo(line)
    except LedgerbridgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_code(exc)) from None


async def _subscribe(
    config: Path, tenant_id: str, connection: str, base: str, events: tuple[str, ...]
) -> list[str]:
    context = configured_connection(config, tenant_id, connection, "api2cart")
    token = cast(Api2CartSecrets, context.secrets).webhook_token
    if token is None or not token.get_secret_value():
        raise ConfigError(
            f"connection {tenant_id}/{connection}: set secrets.webhook_token first "
            "(it ends the callback URL; API2Cart does not sign deliveries)"
        )
    source = Api2CartSource(context)
    path = f"{base.rstrip('/')}/webhooks/{tenant_id}/{connection}/"
    lines = []
    try:
        for name in events:
            entity, _, action = name.partition(".")
            if not entity or not action:
                raise ConfigError(f"event {name!r}: write entity.action, e.g. order.update")
            callback = path + token.get_secret_value()
            hook = await ensure_webhook(
                source.client, entity=entity, action=action, callback=callback
            )
            lines.append(f"{name}: webhook {hook} -> {path}<webhook_token>")
    finally:
        await source.aclose()
    return lines
