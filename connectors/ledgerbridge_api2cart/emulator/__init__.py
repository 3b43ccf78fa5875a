"""The API2Cart emulator (``ledgerbridge sandbox api2cart``)."""

from .app import DEFAULT_API_KEY, DEFAULT_STORES, EmulatorState, create_app, create_state

__all__ = ["DEFAULT_API_KEY", "DEFAULT_STORES", "EmulatorState", "create_app", "create_state"]
