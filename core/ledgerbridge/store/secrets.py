"""Encryption at rest for connection credentials.

Fernet (authenticated AES) from ``cryptography``, keyed from the environment:
``LEDGERBRIDGE_SECRET_KEY`` (one or more comma-separated keys; the first
encrypts, all decrypt -- that is how keys are rotated) or
``LEDGERBRIDGE_SECRET_KEY_FILE``.  ``ledgerbridge keygen`` prints a new key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..errors import SecretsError

KEY_ENV = "LEDGERBRIDGE_SECRET_KEY"
KEY_FILE_ENV = "LEDGERBRIDGE_SECRET_KEY_FILE"


def generate_key() -> str:
    return Fernet.generate_key().decode()


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretsError("no encryption key given")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise SecretsError(
                f"{KEY_ENV} is not a valid key (32 url-safe base64-encoded bytes); "
                "create one with `ledgerbridge keygen`"
            ) from exc

    @classmethod
    def from_env(cls) -> SecretBox:
        raw = os.environ.get(KEY_ENV)
        if not raw and os.environ.get(KEY_FILE_ENV):
            path = Path(os.environ[KEY_FILE_ENV])
            try:
                raw = path.read_text().strip()
            except OSError as exc:
                raise SecretsError(f"cannot read {KEY_FILE_ENV} ({path}): {exc.strerror}") from exc
        if not raw:
            raise SecretsError(
                f"set {KEY_ENV} (or {KEY_FILE_ENV}) to store credentials encrypted; "
                "create a key with `ledgerbridge keygen`"
            )
        return cls([k.strip() for k in raw.split(",") if k.strip()])

    def encrypt(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise SecretsError(
                "stored credentials cannot be decrypted with the configured key "
                f"(was {KEY_ENV} changed without keeping the old key?)"
            ) from exc
        return data

    def rotate(self, token: str) -> str:
        """Re-encrypt with the newest key."""
        return self._fernet.rotate(token.encode()).decode()
