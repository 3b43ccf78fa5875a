"""ledgerbridge: commerce-to-accounting sync engine.

Data flows one way: source connector -> canonical model -> plan -> target connector.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ledgerbridge")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from .hookspecs import hookimpl

__all__ = ["__version__", "hookimpl"]
