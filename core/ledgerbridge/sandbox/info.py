"""What ``ledgerbridge sandbox NAME`` prints when it starts: its URL and everything a config
needs to reach it -- settings, credentials, organisation ids -- as a YAML connection block
to paste.  An emulator's secrets are its own well-known test values, fine to print.

A connector describes its sandbox with ``ConnectorSpec.sandbox_info(url)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SandboxInfo:
    """A connection block for the config (``settings``/``secrets``) and notes for a person."""

    settings: dict[str, Any]
    secrets: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _flow(values: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in values.items()) + "}"


def startup_lines(
    name: str, title: str, url: str, info: SandboxInfo | None, connection: str | None = None
) -> list[str]:
    """The start-up text: one line with the URL, then the config block (under the
    connection name ``connection``, default the platform's) and the notes."""
    lines = [f"ledgerbridge sandbox {name}: {title} emulator listening on {url} (Ctrl-C stops it)"]
    if info is None:
        return lines
    lines += [
        "Put this connection in ledgerbridge.yaml (under a tenant's connections:):",
        f"  {connection or name}:",
        f"    platform: {name}",
        f"    settings: {_flow(info.settings)}",
    ]
    if info.secrets:
        lines.append(f"    secrets: {_flow(info.secrets)}")
    lines += [f"- {note}" for note in info.notes]
    return lines
