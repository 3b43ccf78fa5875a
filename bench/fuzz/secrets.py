"""The plain-text secrets check: no token, key or secret where it must not be.

Looks for every secret the configuration names (access tokens, client secrets,
refresh tokens, API keys, webhook secrets) and every secret the store holds
encrypted (rotated refresh tokens, cached access tokens) in:

* the database files (SQLite: the file and its ``-wal``/``-journal``), byte for byte;
* captured logs and command output;
* exception messages and failure reasons the run produced;
* the cassettes (``cassettes/``): besides the known values, any credential field or
  header whose value is not a ``<PLACEHOLDER>``.

Each secret is looked for as it is and URL-encoded; values shorter than 8
characters are not looked for (they would match by chance).

    python -m bench.fuzz.secrets -c .demo/ledgerbridge.yaml --log demo.log

exits 1 and lists every leak found.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
MIN_LENGTH = 8

CREDENTIAL_FIELD = re.compile(
    r"(?i)(access_token|refresh_token|client_secret|consumer_secret|consumer_key|api_key|"
    r"store_key|webhook_secret|app_secret|api_secret|password|x-api-key|x-store-key|"
    r"x-shopify-access-token|authorization)"
    # the scheme is taken whole when present (atomic): a scrubbed "Zoho-oauthtoken <TOKEN>"
    # must not read as the value "Zoho-oauthtoken"
    r"""["']?\s*[:=]\s*(?:-\s*)?["']?(?>(?:Bearer |Zoho-oauthtoken |Basic )?)([^"'&\s,}\]<]{8,})"""
)
"""A credential field with a value; a scrubbed cassette has only ``<PLACEHOLDER>``s."""


SECRET_NAME = re.compile(r"(?i)token|secret|key|password")


@dataclass(frozen=True)
class Leak:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def config_secrets(config_path: Path) -> dict[str, str]:
    """``value -> "tenant/connection.name"`` for every secret in the configuration."""
    from ledgerbridge.config import load_config

    loaded = load_config(config_path)
    found: dict[str, str] = {}
    for tenant in loaded.config.tenants:
        for name, conn in tenant.connections.items():
            for key, value in conn.secrets.items():
                plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                found[str(plain)] = f"{tenant.id}/{name}.{key}"
    return found


def stored_secrets(database_url: str) -> dict[str, str]:
    """Secrets the store holds encrypted (decrypted with the configured key) -- tokens the
    platforms issued at run time that the configuration does not name."""
    from ledgerbridge.store import Store

    store = Store(database_url)
    found: dict[str, str] = {}
    try:
        from sqlmodel import select

        from ledgerbridge.store.models import Connection

        try:
            with store.session() as session:
                ids = [row.id for row in session.exec(select(Connection)).all()]
        except Exception:  # a store left half-migrated holds no secrets to look for
            ids = []
        for connection_id in ids:
            for key, value in _flatten(store.connection_secrets(connection_id)):
                if SECRET_NAME.search(key):  # not e.g. api_domain, kept beside the tokens
                    found[str(value)] = f"{connection_id}.{key} (stored)"
    finally:
        store.close()
    return found


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        elif isinstance(value, str | int):
            yield f"{prefix}{key}", value


def needles(secrets: Mapping[str, str]) -> dict[bytes, str]:
    """The byte strings to look for: each secret as is and URL-encoded."""
    found: dict[bytes, str] = {}
    for value, name in secrets.items():
        if len(value) < MIN_LENGTH:
            continue
        for form in {value, quote(value, safe=""), quote(value)}:
            found[form.encode()] = name
    return found


def scan_bytes(where: str, data: bytes, secrets: Mapping[str, str]) -> list[Leak]:
    return [Leak(where, name) for needle, name in needles(secrets).items() if needle in data]


def scan_files(paths: Iterable[Path], secrets: Mapping[str, str]) -> list[Leak]:
    leaks: list[Leak] = []
    for path in paths:
        if path.is_file():
            leaks += scan_bytes(str(path), path.read_bytes(), secrets)
    return leaks


def database_files(database_url: str) -> list[Path]:
    if not database_url.startswith("sqlite:///"):
        return []
    base = Path(database_url.removeprefix("sqlite:///"))
    return [base, Path(f"{base}-wal"), Path(f"{base}-journal")]


def scan_cassettes(root: Path, secrets: Mapping[str, str]) -> list[Leak]:
    """Known secrets, and any credential field whose value is not a placeholder."""
    leaks: list[Leak] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        leaks += scan_bytes(str(path), data, secrets)
        text = data.decode("utf-8", "replace")
        for match in CREDENTIAL_FIELD.finditer(text):
            field, value = match.group(1), match.group(2)
            if not value.startswith("<") and not value.isupper():
                leaks.append(Leak(str(path), f"{field} = {value[:4]}... (not scrubbed)"))
    return leaks


def well_known_secrets() -> dict[str, str]:
    """The emulators' own credentials and the demo's: a cassette must carry none of them."""
    from demo import world
    from ledgerbridge_api2cart.emulator.app import DEFAULT_API_KEY
    from ledgerbridge_shopify.emulator import DEFAULT_TOKEN
    from ledgerbridge_woocommerce.emulator import DEFAULT_KEY, DEFAULT_SECRET
    from ledgerbridge_zohobooks.emulator.seed import EMULATOR_CLIENT_SECRET

    found = {
        DEFAULT_API_KEY: "api2cart emulator api key",
        DEFAULT_TOKEN: "shopify emulator token",
        DEFAULT_KEY: "woocommerce emulator consumer key",
        DEFAULT_SECRET: "woocommerce emulator consumer secret",
        EMULATOR_CLIENT_SECRET: "zoho emulator client secret",
    }
    for name in dir(world):
        value = getattr(world, name)
        if (
            name.isupper()
            and isinstance(value, str)
            and ("SECRET" in name or "KEY" in name or "TOKEN" in name)
        ):
            found[value] = f"demo {name}"
    return found


def check(
    *,
    config: Path | None = None,
    logs: Iterable[Path] = (),
    messages: Iterable[str] = (),
    cassettes: Path | None = None,
    extra: Mapping[str, str] | None = None,
) -> list[Leak]:
    """Every leak of the configuration's and the store's secrets (see the module doc)."""
    secrets: dict[str, str] = dict(extra or {})
    database: str | None = None
    if config is not None:
        from ledgerbridge.config import load_config

        secrets.update(config_secrets(config))
        database = load_config(config).config.database
        if database and database.startswith("sqlite:///") and Path(database[10:]).exists():
            secrets.update(stored_secrets(database))
    leaks: list[Leak] = []
    if database:
        leaks += scan_files(database_files(database), secrets)
    leaks += scan_files(logs, secrets)
    for i, message in enumerate(messages):
        leaks += scan_bytes(f"message {i}", message.encode("utf-8", "replace"), secrets)
    if cassettes is not None:
        leaks += scan_cassettes(cassettes, {**secrets, **well_known_secrets()})
    return leaks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "-c", "--config", type=Path, help="ledgerbridge.yaml (its secrets and its database)"
    )
    parser.add_argument(
        "--log", type=Path, action="append", default=[], help="a captured log or output file"
    )
    parser.add_argument("--cassettes", type=Path, default=REPO / "cassettes")
    args = parser.parse_args(argv)
    if args.config is not None and not args.config.exists():
        print(f"{args.config}: no such file", file=sys.stderr)
        return 2
    leaks = check(config=args.config, logs=args.log, cassettes=args.cassettes)
    for leak in leaks:
        print(f"LEAK {leak}")
    print(f"secrets check: {len(leaks)} leak(s)")
    return 1 if leaks else 0


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", "120")
    raise SystemExit(main())
