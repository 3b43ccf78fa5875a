"""Warn when secrets sit in a file others can read.

A config may hold secrets in plain text (the demo's does); that is only acceptable
when the file is readable by its owner alone.  Loading a config warns -- it does not
refuse: the operator may have other protection -- when a config holding plain-text
secrets (connection ``secrets``, a database password) or the secret key file named by
``LEDGERBRIDGE_SECRET_KEY_FILE`` can be read by group or others.  Values written as
``${ENV_VAR}`` references are not in the file and do not count.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from ..store.secrets import KEY_FILE_ENV
from ..yamlfile import Loc, YamlDocument
from .schema import LedgerbridgeConfig

log = logging.getLogger("ledgerbridge.config")
OTHERS_READ = stat.S_IRGRP | stat.S_IROTH


def readable_by_others(path: Path) -> int | None:
    """The file's mode when group or others may read it; None when private or absent."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & OTHERS_READ else None


def plain_secrets(config: LedgerbridgeConfig, doc: YamlDocument) -> list[str]:
    """Where the config holds a secret written in the file itself (not ``${ENV}``)."""
    found: list[str] = []
    for index, tenant in enumerate(config.tenants):
        for name, connection in tenant.connections.items():
            for key, value in connection.secrets.items():
                loc: Loc = ("tenants", index, "connections", name, "secrets", key)
                if value.get_secret_value() and loc not in doc.interpolated:
                    found.append(f"tenants[{tenant.id}].connections.{name}.secrets.{key}")
    if config.database and ("database",) not in doc.interpolated:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            if make_url(config.database).password:
                found.append("database (its password)")
        except ArgumentError:
            pass
    return found


def exposure_warnings(path: Path, config: LedgerbridgeConfig, doc: YamlDocument) -> list[str]:
    warnings: list[str] = []
    mode = readable_by_others(path)
    if mode is not None:
        secrets = plain_secrets(config, doc)
        if secrets:
            shown = ", ".join(secrets[:5]) + (
                f" and {len(secrets) - 5} more" if len(secrets) > 5 else ""
            )
            warnings.append(
                f"{path} holds secrets in plain text ({shown}) and is readable by others "
                f"(mode {mode:04o}): `chmod 600 {path}`, or write them as ${{ENV_VAR}} references"
            )
    key_file = os.environ.get(KEY_FILE_ENV)
    if key_file:
        key_mode = readable_by_others(Path(key_file))
        if key_mode is not None:
            warnings.append(
                f"the secret key file {key_file} ({KEY_FILE_ENV}) is readable by others "
                f"(mode {key_mode:04o}): `chmod 600 {key_file}`"
            )
    return warnings


def warn_about_exposure(path: Path, config: LedgerbridgeConfig, doc: YamlDocument) -> None:
    for warning in exposure_warnings(path, config, doc):
        log.warning("warning: %s", warning)
