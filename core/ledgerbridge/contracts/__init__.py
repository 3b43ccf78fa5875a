"""What a connector promises the engine, in canonical terms only.

* ``Source``  -- yields changed records since a checkpoint, fetches one record,
  verifies and parses webhooks.
* ``Target``  -- resolves/creates contacts and items, writes documents,
  payments and credit notes, finds a document by business key, and lists the
  master data mappings refer to.
* ``ConnectorSpec`` -- how a plugin describes a connector to the registry.
* ``mapped``/``guarded`` -- the mapping guard: a record that cannot be mapped becomes a
  ``Change`` carrying the reason, never an exception that ends a run.
* ``ConnectorContext`` -- everything the engine hands a connector; the only way
  a connector reaches shared state (credentials, locks), so that connectors
  never touch the store themselves.
"""

from .context import Clock, ConnectorContext, CredentialStore, LockProvider, SystemClock
from .guard import guarded, mapped
from .source import Change, ChangePage, Source, SourceCapability, WebhookEvent, WebhookRequest
from .spec import ConnectorKind, ConnectorSpec, EmptySettings
from .target import Target, TargetCapability, TargetDocument, TargetIdentity

__all__ = [
    "Change",
    "ChangePage",
    "Clock",
    "ConnectorContext",
    "ConnectorKind",
    "ConnectorSpec",
    "CredentialStore",
    "EmptySettings",
    "LockProvider",
    "Source",
    "SourceCapability",
    "SystemClock",
    "Target",
    "TargetCapability",
    "TargetDocument",
    "TargetIdentity",
    "WebhookEvent",
    "WebhookRequest",
    "guarded",
    "mapped",
]
