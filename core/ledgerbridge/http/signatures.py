"""HMAC-SHA256 webhook signatures: one verifier for connectors, the matching signer for
emulators.  Shopify, WooCommerce and most carts sign the raw body with a shared secret and send
the digest base64- or hex-encoded in a header; the comparison must be constant-time.  A platform
that signs nothing is given a callback URL ending in a secret token (``verify_path_token``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from pydantic import SecretStr

from ..errors import WebhookRejected

Encoding = Literal["base64", "hex"]


def hmac_sha256(secret: SecretStr | str, body: bytes, encoding: Encoding = "base64") -> str:
    """The signature of ``body`` (what a platform sends, and what an emulator signs with)."""
    key = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    digest = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()


def verify_hmac_sha256(
    secrets: SecretStr | str | list[SecretStr] | list[str] | tuple[SecretStr | str, ...] | None,
    body: bytes,
    given: str | None,
    *,
    encoding: Encoding = "base64",
    what: str = "webhook",
) -> None:
    """Raise ``WebhookRejected`` unless ``given`` is the signature of the raw ``body`` under one
    of ``secrets`` (several while a secret is being rotated).  Every secret is compared, in
    constant time, whatever the first one said -- the time taken tells nothing.  No secret (an
    optional ``webhook_secret`` left unset) refuses every delivery, saying what to configure."""
    if not given:
        raise WebhookRejected(f"{what}: the signature header is missing")
    if not secrets:
        raise WebhookRejected(
            f"{what}: no webhook secret is configured for this connection, "
            "so no delivery can be verified"
        )
    keys = list(secrets) if isinstance(secrets, list | tuple) else [secrets]
    presented = given.strip().encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(hmac_sha256(key, body, encoding).encode(), presented)
    if not matched:
        raise WebhookRejected(f"{what}: the signature does not match the body")


def verify_path_token(path: str, token: SecretStr | None, *, what: str, missing: str) -> None:
    """For a platform that signs nothing (API2Cart): the callback URL it was given ends with a
    per-connection secret token, and a delivery is accepted only when its path's last segment
    is that token, compared in constant time.  No token configured refuses every delivery with
    ``missing`` (which says what to set)."""
    if token is None or not token.get_secret_value():
        raise WebhookRejected(missing)
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if not hmac.compare_digest(last.encode(), token.get_secret_value().encode()):
        raise WebhookRejected(f"{what}: the callback URL token does not match")
