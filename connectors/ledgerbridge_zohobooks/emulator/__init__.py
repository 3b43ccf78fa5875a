"""A Zoho Books emulator (Starlette) for tests and ``ledgerbridge sandbox zohobooks``."""

from .app import EmulatorLimits, Exchange, ZohoBooksEmulator, create_app
from .state import EmulatorState, Organization

__all__ = [
    "EmulatorLimits",
    "EmulatorState",
    "Exchange",
    "Organization",
    "ZohoBooksEmulator",
    "create_app",
]
