"""Who is asking, and what they may see and do.

Users come from the config (``console.users``, password hashes only) or from the store
(``ledgerbridge users add``); a config user shadows a stored one of the same name.  Passwords
are hashed with argon2 (argon2-cffi).  A session is a cookie signed with itsdangerous that
expires after ``session_ttl``; it carries the user name and the CSRF token every form posts
back.  Behind an SSO proxy the console may trust a header naming the user instead
(``console.trusted_header``, off by default) -- the user must still exist here, and the
proxy must strip the header from what clients send.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..config import LoadedConfig
from ..store import Store
from ..store import console_queries as q

ROLES = ("viewer", "operator", "admin")
ALL_TENANTS = "*"
SESSION_COOKIE = "lb_console"
LOGIN_COOKIE = "lb_console_login"  # the log-in form's CSRF token, before there is a session
SECRET_ENV = "LEDGERBRIDGE_CONSOLE_KEY"  # noqa: S105 - the variable's name
log = logging.getLogger(__name__)
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash verified when the user is unknown, so that a wrong name costs as long as a wrong
    password (no user enumeration by timing).  Made on first use, not at import: every
    ``ledgerbridge`` command imports this module, and an argon2 hash costs ~0.1 s of CPU."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a console password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Principal:
    """A logged-in user: name, role and the tenants it may see."""

    username: str
    role: str
    tenants: tuple[str, ...]

    def sees(self, tenant_id: str) -> bool:
        return self.role == "admin" or ALL_TENANTS in self.tenants or tenant_id in self.tenants

    def may(self, role: str) -> bool:
        """Whether this user's role is at least ``role`` (viewer < operator < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True)
class Account:
    principal: Principal
    password_hash: str


class Directory:
    """Finds users in the config, then in the store."""

    def __init__(self, config: LoadedConfig, store: Store) -> None:
        self.config, self.store = config, store

    def find(self, username: str) -> Account | None:
        for user in self.config.config.console.users:
            if user.username == username:
                principal = Principal(user.username, user.role, tuple(user.tenants))
                return Account(principal, user.password_hash.get_secret_value())
        row = q.get_user(self.store, username)
        if row is None or row.disabled or row.role not in ROLES:
            return None
        return Account(Principal(row.username, row.role, tuple(row.tenants)), row.password_hash)

    def authenticate(self, username: str, password: str) -> Principal | None:
        account = self.find(username)
        if account is None:
            verify_password(_dummy_hash(), password)
            return None
        return account.principal if verify_password(account.password_hash, password) else None


def signing_key(config: LoadedConfig) -> str:
    """The key that signs session cookies: the config's, the environment's, or (with a
    warning) a random one, which logs everyone out when the process restarts."""
    configured = config.config.console.secret_key
    if configured is not None:
        return configured.get_secret_value()
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    log.warning(
        "console: no console.secret_key and no %s; sessions end when this process stops",
        SECRET_ENV,
    )
    return secrets.token_urlsafe(32)


class Sessions:
    """Signed, expiring session and log-in cookies."""

    def __init__(self, key: str, ttl_seconds: int) -> None:
        self.ttl = ttl_seconds
        self._session = URLSafeTimedSerializer(key, salt="ledgerbridge.console.session")
        self._login = URLSafeTimedSerializer(key, salt="ledgerbridge.console.login")

    def issue(self, username: str) -> tuple[str, str]:
        """A new session cookie value and its CSRF token."""
        csrf = secrets.token_urlsafe(24)
        return self._session.dumps({"u": username, "csrf": csrf}), csrf

    def read(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie:
            return None
        try:
            data = self._session.loads(cookie, max_age=self.ttl)
        except BadSignature:  # includes SignatureExpired
            return None
        return data if isinstance(data, dict) and "u" in data and "csrf" in data else None

    def login_token(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(24)
        return self._login.dumps(token), token

    def login_token_ok(self, cookie: str | None, posted: str | None) -> bool:
        if not cookie or not posted:
            return False
        try:
            token = self._login.loads(cookie, max_age=3600)
        except BadSignature:
            return False
        return isinstance(token, str) and hmac.compare_digest(token, posted)


def csrf_ok(expected: str | None, posted: str | None) -> bool:
    return bool(expected and posted) and hmac.compare_digest(str(expected), str(posted))


def visible_tenants(principal: Principal, tenant_ids: Sequence[str]) -> list[str]:
    return [t for t in tenant_ids if principal.sees(t)]


__all__ = [
    "ROLES",
    "Directory",
    "Principal",
    "Sessions",
    "csrf_ok",
    "hash_password",
    "signing_key",
    "verify_password",
    "visible_tenants",
]
