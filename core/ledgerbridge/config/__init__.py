"""``ledgerbridge.yaml``: tenants, connections and pipelines, checked with positions."""

from .loader import DEFAULT_CONFIG, LoadedConfig, connection_models, load_config, resolve_mapping
from .schema import (
    ConnectionConfig,
    LedgerbridgeConfig,
    PipelineConfig,
    PostingPolicy,
    TenantConfig,
    WorkersConfig,
)

__all__ = [
    "DEFAULT_CONFIG",
    "ConnectionConfig",
    "LedgerbridgeConfig",
    "LoadedConfig",
    "PipelineConfig",
    "PostingPolicy",
    "TenantConfig",
    "WorkersConfig",
    "connection_models",
    "load_config",
    "resolve_mapping",
]
