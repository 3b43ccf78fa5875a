"""A real ``ledgerbridge serve`` subprocess on a free loopback port.

The webhook receiver is fuzzed where it runs in production -- uvicorn, threads,
a SQLite file -- not only in-process through the ASGI transport.  A receiver that
dies (even by a signal) is seen: ``Served.returncode`` is set.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def returncode(self) -> int | None:
        return self.process.poll()


@contextmanager
def serve(config: Path, log: Path, *, env: dict[str, str] | None = None) -> Iterator[Served]:
    """Run ``ledgerbridge serve -c config`` until the block ends; its output goes to ``log``."""
    port = free_port()
    command = [sys.executable, "-m", "ledgerbridge", "serve", "-c", str(config)]
    command += ["--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        served = Served(f"http://127.0.0.1:{port}", process, log)
        try:
            _wait_listening(served)
            yield served
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_listening(served: Served, timeout: float = 30.0) -> None:
    """Until the port answers HTTP at all (any status: readiness is the receiver's to say)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.returncode is not None:
            raise RuntimeError(f"ledgerbridge serve exited with {served.returncode}: {served.log}")
        try:
            httpx.get(served.url + "/health", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"ledgerbridge serve did not listen within {timeout}s")
