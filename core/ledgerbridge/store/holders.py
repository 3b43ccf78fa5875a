"""Lease holder names, and telling a holder that is provably dead.

A holder name is ``host:pid:random[:pidns]``: the host name, the process id, a
random suffix (two engines in one process are two holders) and, where Linux
shows it, the inode of the process's PID namespace.  A lease whose holder runs
on *this* host, in *this* PID namespace, under a PID that no longer exists (or
is a zombie) belongs to a crashed worker and may be taken over at once instead
of after its TTL.  Anything less certain -- another host, another container
sharing the host name, a PID reused by another program -- counts as alive: the
lease then expires by its TTL, or an operator runs ``ledgerbridge unlock``.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path


def _pid_namespace() -> str | None:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return None


def default_holder() -> str:
    """A lease holder name unique to this process (host, pid, random suffix, PID namespace)."""
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    namespace = _pid_namespace()
    return f"{name}:{namespace}" if namespace else name


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    namespace: str | None


def parse_holder(holder: str) -> Holder | None:
    """The parts of a name ``default_holder`` built; ``None`` for any other name."""
    parts = holder.split(":")
    if len(parts) not in (3, 4) or not parts[1].isdigit():
        return None
    return Holder(parts[0], int(parts[1]), parts[3] if len(parts) == 4 else None)


def _pid_gone(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    try:  # a killed process nobody has reaped yet still answers signal 0
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def holder_is_dead(holder: str) -> bool:
    """Whether ``holder`` is certainly a process that no longer runs (same host and PID
    namespace, PID gone).  ``False`` whenever that cannot be proved."""
    parsed = parse_holder(holder)
    if parsed is None or parsed.host != socket.gethostname():
        return False
    if parsed.namespace != _pid_namespace():
        return False
    if parsed.pid == os.getpid():
        return False  # this very process (another engine in it): never dead
    return _pid_gone(parsed.pid)


__all__ = ["Holder", "default_holder", "holder_is_dead", "parse_holder"]
