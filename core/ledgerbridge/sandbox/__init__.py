"""Building blocks for platform emulators: serve an ASGI app on loopback, inject faults.

Each connector ships its own emulator (a Starlette app that behaves like the
platform for everything the connector uses); these pieces are what they share.
"""

from .faults import FaultConfig, FaultInjector, TrapInjector, WriteTrap
from .info import SandboxInfo, startup_lines
from .server import LoopbackServer, serve

__all__ = [
    "FaultConfig",
    "FaultInjector",
    "LoopbackServer",
    "SandboxInfo",
    "TrapInjector",
    "WriteTrap",
    "serve",
    "startup_lines",
]
