"""``ledgerbridge connect zohobooks``: OAuth consent, code exchange, organisation, stored secrets.

The CLI layer may use the store (the connector runtime may not): the connection is
saved through the engine's ``register_connection``, which encrypts the refresh
token and binds the organisation to the tenant -- refusing, with nothing saved,
an organisation already bound to another tenant.

The grant code is single-use and lives a minute or two (facts doc §2.2), so one
attempt must do: when the user reaches several organisations and named none, the
organisations are listed after the exchange and the user picks one while the new
refresh token is held in memory -- never "rerun with a new code".  The store is
the one the config names (``-c``, its ``database:``), as every other command's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import typer

from ledgerbridge.commands import config_database, exit_code, save_connection
from ledgerbridge.errors import AuthFailed, LedgerbridgeError, ValidationFailed

from .auth import ZohoTokenEndpoint
from .client import classify
from .datacenters import DATA_CENTERS, data_center, trusted_accounts_server, trusted_api_domain
from .models import Organization, TokenResponse
from .scopes import SCOPE_STRING

DEFAULT_REDIRECT = "http://127.0.0.1:8765/callback"


def consent_url(accounts_server: str, client_id: str, redirect_uri: str, state: str) -> str:
    query = {
        "scope": SCOPE_STRING,
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "access_type": "offline",
        "prompt": "consent",
        "state": state,
    }
    return f"{accounts_server}/oauth/v2/auth?{urlencode(query)}"


def exchange_code(
    http: httpx.Client,
    accounts_server: str,
    *,
    code: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
) -> TokenResponse:
    response = http.post(
        f"{accounts_server}/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
        },
    )
    try:
        body = ZohoTokenEndpoint(accounts_server).read(response)
    except AuthFailed as exc:
        if exc.code != "invalid_code":
            raise
        # At the code exchange, invalid_code is about the grant code, not a refresh token.
        raise AuthFailed(
            f"Zoho accounts server {accounts_server} answered 'invalid_code': the grant code was "
            "already used or has expired (a code is single-use and lives about a minute); open "
            "the consent URL again and paste the new code at once",
            platform="zohobooks",
            code="invalid_code",
        ) from None
    token = TokenResponse.model_validate(body)
    if not token.refresh_token:
        raise AuthFailed(
            "Zoho returned no refresh token: the consent URL must ask for access_type=offline "
            "and prompt=consent",
            platform="zohobooks",
        )
    return token


def list_organizations(
    http: httpx.Client, api_domain: str, access_token: str
) -> list[Organization]:
    response = http.get(
        f"{api_domain}/books/v3/organizations",
        headers={"Authorization": f"Zoho-oauthtoken {access_token}"},
    )
    body = classify(response)
    return [Organization.model_validate(o) for o in body.get("organizations") or []]


def _connect_group(cli: typer.Typer) -> typer.Typer:
    """The shared ``connect`` group (created by the first connector that needs it)."""
    for group in cli.registered_groups:
        if group.name == "connect" and group.typer_instance is not None:
            return group.typer_instance
    group_app = typer.Typer(
        help="Connect an account that needs an interactive flow (OAuth).", no_args_is_help=True
    )
    cli.add_typer(group_app, name="connect")
    return group_app


def register(cli: typer.Typer) -> None:
    group = _connect_group(cli)
    if not any(c.name == "zohobooks" for c in group.registered_commands):
        group.command("zohobooks")(connect_zohobooks)


def connect_zohobooks(
    client_id: Annotated[str, typer.Option(envvar="ZOHO_CLIENT_ID", help="OAuth client id.")],
    client_secret: Annotated[
        str, typer.Option(envvar="ZOHO_CLIENT_SECRET", help="OAuth client secret.", hide_input=True)
    ],
    tenant: Annotated[str, typer.Option(help="Tenant the connection belongs to.")] = "default",
    name: Annotated[str, typer.Option(help="Connection name.")] = "books",
    data_center_code: Annotated[
        str, typer.Option("--data-center", help=f"One of {', '.join(DATA_CENTERS)}.")
    ] = "com",
    redirect_uri: Annotated[
        str, typer.Option(help="Redirect URI registered for the client.")
    ] = DEFAULT_REDIRECT,
    code: Annotated[
        str | None, typer.Option(help="Grant code from the redirect (else prompted).")
    ] = None,
    accounts_server: Annotated[
        str | None, typer.Option(help="The redirect's accounts-server parameter (checked).")
    ] = None,
    organization_id: Annotated[str | None, typer.Option(help="Organisation to write to.")] = None,
    accounts_url: Annotated[
        str | None, typer.Option(help="Accounts server override (emulator).")
    ] = None,
    api_url: Annotated[str | None, typer.Option(help="API domain override (emulator).")] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="State store URL (default: the config's database:, else "
            "LEDGERBRIDGE_DATABASE_URL, else ./ledgerbridge.db)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="LEDGERBRIDGE_CONFIG",
            help="Config whose database: holds the connection (default: ./ledgerbridge.yaml "
            "if present).",
        ),
    ] = None,
    state: Annotated[str, typer.Option(help="Opaque state for the consent URL.")] = "ledgerbridge",
) -> None:
    """Authorise ledgerbridge in Zoho Books and store the connection (refresh token encrypted)."""
    try:
        database_url = database_url or config_database(config)
        dc = data_center(data_center_code)
        overrides = frozenset(u.rstrip("/") for u in (accounts_url, api_url) if u)
        accounts = trusted_accounts_server(accounts_url or dc.accounts_server, extra=overrides)
        typer.echo("Open this URL, approve access, and copy the `code` parameter of the redirect:")
        typer.echo(consent_url(accounts, client_id, redirect_uri, state))
        typer.echo(f"Scopes requested: {SCOPE_STRING}")
        code = code or typer.prompt("Grant code")
        if accounts_server:
            # Multi-DC: exchange at the server the redirect named, if it is a Zoho host.
            accounts = trusted_accounts_server(accounts_server, extra=overrides)
        with httpx.Client(timeout=30.0) as http:
            token = exchange_code(
                http,
                accounts,
                code=code,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uri=redirect_uri,
            )
            api_domain = trusted_api_domain(
                token.api_domain or api_url or dc.api_domain, extra=overrides
            )
            orgs = list_organizations(http, api_domain, token.access_token)
        if not orgs:
            raise ValidationFailed(
                "this Zoho user belongs to no Books organisation", platform="zohobooks"
            )
        chosen = organization_id
        listing = ", ".join(f"{o.organization_id} ({o.name})" for o in orgs)
        if chosen is None:
            chosen = orgs[0].organization_id if len(orgs) == 1 else choose_organization(orgs)
        if chosen not in {o.organization_id for o in orgs}:
            raise ValidationFailed(
                f"organisation {chosen} is not reachable with this authorisation; "
                f"it reaches: {listing}",
                platform="zohobooks",
            )
        settings: dict[str, Any] = {"data_center": dc.code, "organization_id": chosen}
        if accounts != dc.accounts_server:
            settings["accounts_url"] = accounts
        if api_domain != dc.api_domain:
            settings["api_url"] = api_domain
        connection_id = save_connection(
            database_url,
            "zohobooks",
            tenant,
            name,
            settings=settings,
            secrets={
                "client_id": client_id,
                "client_secret": client_secret,
                "refresh_token": token.refresh_token,
            },
            organization_id=chosen,
        )
        typer.echo(f"Connected {connection_id} to Zoho Books organisation {chosen} ({api_domain}).")
    except LedgerbridgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_code(exc)) from None


def choose_organization(orgs: list[Organization]) -> str:
    """Ask which organisation to write to (the refresh token waits in memory meanwhile)."""
    typer.echo("This Zoho user reaches several organisations:")
    for n, org in enumerate(orgs, 1):
        typer.echo(f"  {n}. {org.organization_id}  {org.name} ({org.currency_code or '-'})")
    by_id = {o.organization_id: o.organization_id for o in orgs}
    while True:
        try:
            answer = typer.prompt("Organisation (number or id)").strip()
        except typer.Abort:
            raise ValidationFailed(
                "no organisation chosen; the authorisation was not stored. Rerun with "
                "--organization-id ID (one of: "
                + ", ".join(f"{o.organization_id} ({o.name})" for o in orgs)
                + ") and a new grant code",
                platform="zohobooks",
            ) from None
        if answer in by_id:
            return by_id[answer]
        if answer.isdigit() and 1 <= int(answer) <= len(orgs):
            return orgs[int(answer) - 1].organization_id
        typer.echo(f"{answer!r} is neither a number from the list nor an organisation id")
