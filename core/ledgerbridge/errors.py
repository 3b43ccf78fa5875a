"""Every exception ledgerbridge raises, drawn in one place.

The tree (like httpx's ``_exceptions.py``) is the contract between connectors
and the engine: a connector turns a platform's error into one of these classes,
and the engine decides what to do from the *class* alone -- never from a
platform's message text.  What the engine does with a class is written on the
class itself:

* ``retryable``      -- a later attempt may succeed without anyone changing anything;
* ``needs_operator`` -- a person must act (revoked token, missing permission);
* ``record_state``   -- the sync-record state a failure of this class parks a record in.

::

    LedgerbridgeError
    ├── ConfigError                  bad ledgerbridge.yaml / mapping file (file:line:column)
    │   └── UnknownId                a pipeline, record, conflict or order that does not exist
    ├── ReconnectNeeded              a run stopped: a connection's credentials are dead
    ├── PluginError                  a plugin failed to load or registered something invalid
    ├── SecretsError                 no encryption key, or a ciphertext the key cannot open
    ├── WebhookRejected              bad or missing signature: store nothing, answer 401
    ├── AccountBound                 a target account belongs to another tenant: write nothing
    ├── WebhookMalformed             authentic delivery, unusable body: store nothing, answer 400
    ├── StoreError                   the state store is unusable as found (half-created schema)
    └── SyncError                    anything that happens while talking to a platform
        ├── TransientError           5xx, timeouts, connection errors           (retryable)
        │   ├── RateLimited          429 and platform throttle codes; .retry_after
        │   │   └── QuotaExhausted   daily quota gone; stop this organisation until reset
        │   └── OutcomeUnknown       a write may have happened: read the target before any re-send
        ├── AuthExpired              access token expired: refresh once, then retry
        ├── AuthFailed               refresh impossible (revoked, wrong data centre)  (operator)
        │   └── CredentialsRevoked   the refresh token is revoked or invalid: reconnect
        ├── PermissionDenied         token lacks a scope / role                       (operator)
        ├── ValidationFailed         the platform (or our model) rejected the data    (failed)
        │   └── TotalsMismatch       an order's parts do not add up to its total
        ├── NotFound                 the record does not exist (any more)
        ├── Conflict                 both sides changed the same fields
        ├── NeedsMapping             a tax / item / account / payment mode has no mapping
        └── OutcomeUnverifiable      a write may have happened; the target cannot tell  (operator)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar


class LedgerbridgeError(Exception):
    """Root of every error ledgerbridge raises on purpose."""


# --------------------------------------------------------------------------- config & plugins


@dataclass(frozen=True)
class SourceLocation:
    """Where in a YAML file something is (1-based line and column)."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


class ConfigError(LedgerbridgeError):
    """A configuration or mapping file is wrong.

    ``problems`` holds one ``(location, message)`` pair per problem so that a
    user sees every mistake in one pass, each with ``file:line:column``.
    """

    def __init__(self, problems: list[tuple[SourceLocation, str]] | str) -> None:
        if isinstance(problems, str):
            problems = [(SourceLocation("<config>"), problems)]
        self.problems = problems
        super().__init__("\n".join(f"{loc}: {msg}" for loc, msg in problems))


class UnknownId(ConfigError):
    """A name the command was given does not exist: a pipeline, record, conflict or order."""


class ReconnectNeeded(LedgerbridgeError):
    """A run stopped at a dead connection: nothing more can be written or read through it.

    ``connection_id`` names the connection, ``instruction`` the command that mends it
    (``ledgerbridge connect zohobooks ...``), ``cause`` the error that showed it.
    """

    def __init__(self, connection_id: str, instruction: str, cause: SyncError) -> None:
        self.connection_id = connection_id
        self.instruction = instruction
        self.cause = cause
        super().__init__(
            f"connection {connection_id} needs reconnecting: {cause.message}. "
            f"Run `{instruction}`, then run again (records not reached are still pending)"
        )


class PluginError(LedgerbridgeError):
    """A plugin could not be loaded or registered something invalid."""


class SecretsError(LedgerbridgeError):
    """Secrets cannot be encrypted or decrypted (no key, wrong key)."""


class WebhookRejected(LedgerbridgeError):
    """A webhook failed verification; nothing about it may be stored."""


class AccountBound(LedgerbridgeError):
    """A target account (a Zoho Books organisation) is bound to another tenant, or no
    longer to this one: nothing may be written to it.  Not a ``SyncError``: it parks no
    record, it stops the run (docs/configuration.md, "One organisation, one tenant")."""


class WebhookMalformed(LedgerbridgeError):
    """An authentic delivery whose body cannot be used (nested too deep, an id that is not
    an id): answer 400, store nothing."""


class StoreError(LedgerbridgeError):
    """The state store cannot be used as found (e.g. tables without a migration record)."""


# --------------------------------------------------------------------------- sync errors


class SyncError(LedgerbridgeError):
    """An error while reading from a source or writing to a target.

    ``platform``/``code``/``platform_message`` carry what the platform said (its
    code, never parsed for control flow beyond the connector), so that an
    operator can read *why* without a developer.
    """

    retryable: ClassVar[bool] = False
    needs_operator: ClassVar[bool] = False
    record_state: ClassVar[str] = "failed"

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        code: str | int | None = None,
        platform_message: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.code = None if code is None else str(code)
        self.platform_message = platform_message
        self.status_code = status_code
        self.details = details or {}

    def summary(self) -> dict[str, Any]:
        """A JSON-safe description for attempts, audit events and ``--json`` output."""
        return {
            "error_class": type(self).__name__,
            "message": self.message,
            "platform": self.platform,
            "code": self.code,
            "platform_message": self.platform_message,
            "status_code": self.status_code,
            "retryable": self.retryable,
            "needs_operator": self.needs_operator,
        }


class TransientError(SyncError):
    """Server errors, timeouts, dropped connections: try again later."""

    retryable = True
    record_state = "retrying"


class RateLimited(TransientError):
    """The platform asked us to slow down.

    ``retry_after`` is seconds to wait when the platform said so (header or a
    documented code); ``None`` means "back off by policy".
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "retry_after": self.retry_after}


class QuotaExhausted(RateLimited):
    """A daily (or longer) quota is used up: the whole organisation waits until reset."""


class AuthExpired(SyncError):
    """The access token expired. Refresh once and retry; a second failure is ``AuthFailed``."""

    retryable = True
    record_state = "retrying"


class AuthFailed(SyncError):
    """Credentials no longer work (revoked, wrong data centre, bad key): reconnect."""

    needs_operator = True


class CredentialsRevoked(AuthFailed):
    """The refresh token is revoked, deleted or invalid: no call can succeed until a person
    reconnects.  A run stops at the first one instead of parking every remaining record."""


class PermissionDenied(SyncError):
    """The credentials work but may not do this (missing scope or role)."""

    needs_operator = True


class ValidationFailed(SyncError):
    """The data was rejected (by the platform or our canonical checks); retrying won't help."""


class TotalsMismatch(ValidationFailed):
    """An order's parts do not add up to its stated total beyond the rounding tolerance.

    The exact amounts travel with the error so the parked record says by how much.
    """

    def __init__(
        self,
        message: str,
        *,
        computed: Decimal,
        stated: Decimal,
        difference: Decimal,
        tolerance: Decimal,
        currency: str,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.computed = computed
        self.stated = stated
        self.difference = difference
        self.tolerance = tolerance
        self.currency = currency

    def summary(self) -> dict[str, Any]:
        return {
            **super().summary(),
            "computed": str(self.computed),
            "stated": str(self.stated),
            "difference": str(self.difference),
            "tolerance": str(self.tolerance),
            "currency": self.currency,
        }


class NotFound(SyncError):
    """The record does not exist on the platform (or no longer does)."""


class Conflict(SyncError):
    """Both the source and the target changed fields we own since our last write."""

    record_state = "conflict"


class NeedsMapping(SyncError):
    """A value has no mapping (tax, item, account, payment mode); ``missing`` names it exactly."""

    record_state = "needs_mapping"

    def __init__(self, message: str, *, missing: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.missing = missing

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "missing": self.missing}


class OutcomeUnknown(TransientError):
    """A write was sent and its outcome is unknown: a timeout after sending, a dropped
    connection, a 5xx that may have committed.

    Never retried blindly (``ledgerbridge.retry`` does not retry it): the record waits as
    ``retrying`` and the next attempt first reads the target to learn whether the write
    happened (the engine's adoption), re-sending only when it certainly did not.
    """


class OutcomeUnverifiable(SyncError):
    """A write may or may not have happened and the target cannot be asked: a person checks."""

    needs_operator = True


__all__ = [
    "AccountBound",
    "AuthExpired",
    "AuthFailed",
    "ConfigError",
    "Conflict",
    "CredentialsRevoked",
    "LedgerbridgeError",
    "NeedsMapping",
    "NotFound",
    "OutcomeUnknown",
    "OutcomeUnverifiable",
    "PermissionDenied",
    "PluginError",
    "QuotaExhausted",
    "RateLimited",
    "ReconnectNeeded",
    "SecretsError",
    "SourceLocation",
    "StoreError",
    "SyncError",
    "TotalsMismatch",
    "TransientError",
    "UnknownId",
    "ValidationFailed",
    "WebhookMalformed",
    "WebhookRejected",
]
