"""The exit codes of every ``ledgerbridge`` command, defined once.

Cron, systemd and Kubernetes act on a command's exit code, so each outcome an
operator must tell apart has its own: records a person must look at, dead
credentials, a broken configuration, an unknown name, a pipeline another live
worker holds, records waiting for a durable retry.  The table is documented in
``docs/operations.md`` ("Exit codes"); when several apply to one command, the
most urgent wins (``most_urgent``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # everything synced (or nothing to do); the command did what it was asked
    INTERNAL = 1  # an unexpected error (a bug, the store unreachable); Python's own code too
    USAGE = 2  # the command line is wrong (click/typer's own code)
    PARKED = 3  # records are left failed, needs_mapping or conflict: a person must act
    RETRYING = 4  # records wait for a durable retry (5xx, rate limit, quota): no action needed
    CREDENTIALS = 5  # a connection's credentials are dead: reconnect, then run again
    CONFIG = 6  # ledgerbridge.yaml, a mapping, the secret key or a plugin is wrong
    NOT_FOUND = 7  # an unknown pipeline, record, conflict or order id
    BUSY = 8  # a live worker holds the pipeline's lease (or an unlock was declined)


# Most urgent first: what one exit code reports when several outcomes apply.
URGENCY = (
    ExitCode.INTERNAL,
    ExitCode.CONFIG,
    ExitCode.CREDENTIALS,
    ExitCode.NOT_FOUND,
    ExitCode.PARKED,
    ExitCode.BUSY,
    ExitCode.RETRYING,
    ExitCode.USAGE,
    ExitCode.OK,
)


def most_urgent(codes: Iterable[ExitCode]) -> ExitCode:
    """The code to exit with when a command met several outcomes (``OK`` for none)."""
    found = set(codes)
    return next((code for code in URGENCY if code in found), ExitCode.OK)


__all__ = ["URGENCY", "ExitCode", "most_urgent"]
