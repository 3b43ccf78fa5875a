"""How the emulator decides who is calling -- WooCommerce's rules, WooCommerce's errors.

Over https: HTTP Basic, or ``consumer_key``/``consumer_secret`` query parameters.
Over plain http: OAuth 1.0a one-legged only (HMAC-SHA1/SHA256, timestamp within
15 minutes, nonce used once), verified with oauthlib's server-side signature
functions -- an independent check of the connector's signing, not a copy of it.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

# By name: type-checking must not depend on whether oauthlib's stubs are installed.
oauth_signature: Any = importlib.import_module("oauthlib.oauth1.rfc5849.signature")

TIMESTAMP_WINDOW = 15 * 60


class AuthError(Exception):
    def __init__(self, code: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class _SignedRequest:
    """What oauthlib's ``verify_hmac_*`` reads from a request."""

    uri: str
    http_method: str
    params: list[tuple[str, str]]
    signature: str


@dataclass
class Keys:
    """The REST API keys the store knows, and the nonces already seen."""

    keys: dict[str, str] = field(default_factory=dict)
    strip_authorization: bool = False  # the server drops the Authorization header
    seen_nonces: set[tuple[str, str, str]] = field(default_factory=set)
    now: Any = time.time

    def check(self, request: Request) -> str:
        """The consumer key a request authenticates as, or ``AuthError``."""
        if request.url.scheme == "https":
            return self._check_https(request)
        return self._check_oauth(request)

    def _check_https(self, request: Request) -> str:
        header = None if self.strip_authorization else request.headers.get("authorization")
        if header and header.lower().startswith("basic "):
            try:
                raw = base64.b64decode(header[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise AuthError(
                    "woocommerce_rest_authentication_error", "Invalid header."
                ) from None
            key, _, secret = raw.partition(":")
            return self._match(key, secret)
        query_key = request.query_params.get("consumer_key")
        query_secret = request.query_params.get("consumer_secret")
        if query_key is not None or query_secret is not None:
            return self._match(query_key or "", query_secret or "")
        raise AuthError("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    def _match(self, key: str, secret: str) -> str:
        if key not in self.keys:
            raise AuthError("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if self.keys[key] != secret:
            raise AuthError("woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return key

    def _check_oauth(self, request: Request) -> str:
        header = request.headers.get("authorization") if not self.strip_authorization else None
        headers = {"Authorization": header} if header and header.startswith("OAuth ") else None
        params = oauth_signature.collect_parameters(
            uri_query=request.url.query, headers=headers, exclude_oauth_signature=False
        )
        oauth = dict(params)
        for name in ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                     "oauth_signature_method"):  # fmt: skip
            if name not in oauth:
                if not any(k.startswith("oauth_") for k in oauth):
                    raise AuthError(
                        "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
                    )
                raise AuthError(
                    "woocommerce_rest_authentication_error", f"Missing OAuth parameter {name}"
                )
        key = str(oauth["oauth_consumer_key"])
        if key not in self.keys:
            raise AuthError("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        method = oauth["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
            )
        try:
            stamp = int(oauth["oauth_timestamp"])
        except ValueError:
            stamp = -1
        if abs(self.now() - stamp) > TIMESTAMP_WINDOW:
            raise AuthError("woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = (key, oauth["oauth_timestamp"], oauth["oauth_nonce"])
        if nonce in self.seen_nonces:
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "Invalid nonce - nonce has already been used.",
            )
        parts = urlsplit(str(request.url))
        signed = _SignedRequest(
            uri=f"{parts.scheme}://{parts.netloc}{parts.path}",
            http_method=request.method,
            params=[(k, v) for k, v in params if k != "oauth_signature"],
            signature=oauth["oauth_signature"],
        )
        verify = (
            oauth_signature.verify_hmac_sha256
            if method == "HMAC-SHA256"
            else oauth_signature.verify_hmac_sha1
        )
        if not verify(signed, self.keys[key]):
            raise AuthError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )
        self.seen_nonces.add(nonce)
        return key
