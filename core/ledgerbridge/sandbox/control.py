"""A control surface for an emulator running in its own process: faults and kills over HTTP.

``FaultInjector`` is configured in-process; a chaos harness drives emulators that
run as separate long-lived processes (their state outlives the worker it kills),
so this middleware takes its orders over HTTP, under ``/_sandbox/``:

- ``POST /_sandbox/faults`` ``{"rules": [...]}`` adds fault rules; ``DELETE`` clears them
  (``?scope=...``: that scope's only; the same for ``/_sandbox/kill``).
  A rule: ``{"fault": "lose_response" | "error_5xx" | <platform fault>, "kind": "create" | "*",
  "scope": "<org or shop>" | "*", "times": N, "skip": K, "rate": 0.1}``: the rule fires on
  the writes of that kind after skipping K of them, at most N times (and with ``rate``, on
  that share of them only).
- ``POST /_sandbox/kill`` ``{"pid": 123, "kind": "create", "scope": "*", "after": 3}``: right
  after the 3rd committed write of that kind from now, before its response leaves, every
  registered PID of that scope is sent SIGKILL -- the worker dies between the platform's
  commit and its own.  ``{"pid": 123}`` alone (``after`` 0) only registers the PID;
  ``{"action": "revoke", "args": {...}, "after": 5}`` runs a platform action there instead.
- ``GET /_sandbox/counters``: committed writes per scope and kind, faults injected, kills.
- ``GET /_sandbox/export[/<name>]?scope=...`` and ``POST /_sandbox/action/<name>``: what the
  platform registers (its books, a shop's orders, its token knobs).

Which request is a write, and of what kind and scope, is the platform's to say
(``classify``); so are the bodies of platform-specific faults (``responders``).  A platform
whose reads and writes share one endpoint (Shopify's GraphQL) is classified by its body:
with ``peek_body``, ``classify`` gets the request body as a fourth argument.
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .faults import ResponseLost

Scope = dict[str, Any]
Message = dict[str, Any]
Classify = Callable[[str, str, dict[str, str]], "tuple[str, str] | None"]
Responder = tuple[int, bytes]  # status and body answered instead of the platform
Exporter = Callable[[dict[str, str]], Any]
Action = Callable[[dict[str, Any]], Any]

PREFIX = "/_sandbox/"
GENERIC_FAULTS = frozenset({"lose_response", "error_5xx"})
SERVICE_UNAVAILABLE: Responder = (503, b'{"error": "injected fault: service unavailable"}')


@dataclass
class FaultRule:
    fault: str
    kind: str = "*"
    scope: str = "*"
    times: int = 1
    skip: int = 0
    rate: float = 1.0

    def matches(self, scope: str, kind: str) -> bool:
        return self.kind in ("*", kind) and self.scope in ("*", scope)


@dataclass
class KillRule:
    kind: str
    scope: str
    after: int  # fire on the after-th matching committed write
    action: str | None = None  # a platform action to run then instead of the kill
    args: dict[str, Any] = field(default_factory=dict)  # the action's body


@dataclass
class Controls:
    """The surface's state: rules, registered workers and what happened."""

    rules: list[FaultRule] = field(default_factory=list)
    kills: list[KillRule] = field(default_factory=list)
    pids: dict[str, set[int]] = field(default_factory=dict)  # scope -> worker PIDs
    committed: dict[str, dict[str, int]] = field(default_factory=dict)  # scope -> kind -> n
    injected: dict[str, dict[str, int]] = field(default_factory=dict)  # scope -> fault -> n
    killed: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def fault_for(self, scope: str, kind: str) -> str | None:
        for rule in self.rules:
            if rule.times <= 0 or not rule.matches(scope, kind):
                continue
            if rule.skip > 0:
                rule.skip -= 1
                continue
            if rule.rate < 1.0 and self.rng.random() >= rule.rate:
                continue
            rule.times -= 1
            faults = self.injected.setdefault(scope, {})
            faults[rule.fault] = faults.get(rule.fault, 0) + 1
            return rule.fault
        return None

    def commit(self, scope: str, kind: str) -> list[KillRule]:
        """Count a committed write; the rules that fire on it."""
        kinds = self.committed.setdefault(scope, {})
        kinds[kind] = kinds.get(kind, 0) + 1
        fired = []
        for rule in list(self.kills):
            if rule.kind in ("*", kind) and rule.scope in ("*", scope):
                rule.after -= 1
                if rule.after <= 0:
                    self.kills.remove(rule)
                    fired.append(rule)
        return fired

    def kill_workers(self, scope: str) -> int:
        victims = set(self.pids.get(scope, set())) | set(self.pids.get("*", set()))
        done = 0
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
                done += 1
            except ProcessLookupError:
                pass
        self.killed += done
        return done


class ControlSurface:
    """ASGI middleware: the platform app plus ``/_sandbox/`` controls (see the module doc)."""

    def __init__(
        self,
        app: Any,
        classify: Classify,
        *,
        responders: dict[str, Responder] | None = None,
        exporters: dict[str, Exporter] | None = None,
        actions: dict[str, Action] | None = None,
        seed: int = 0,
        peek_body: bool = False,
    ) -> None:
        self.app = app
        self.classify = classify
        self.peek_body = peek_body
        self.responders = {"error_5xx": SERVICE_UNAVAILABLE, **(responders or {})}
        self.exporters = exporters or {}
        self.actions = actions or {}
        self.controls = Controls(rng=random.Random(seed))
        self.emulator = getattr(app, "emulator", None)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(PREFIX):
            await self._control(scope, receive, send, path.removeprefix(PREFIX))
            return
        query = _query(scope)
        if self.peek_body:
            receive, body = await _replayable(receive)
            found = self.classify(scope.get("method", "GET"), path, query, body)  # type: ignore[call-arg]
        else:
            found = self.classify(scope.get("method", "GET"), path, query)
        if found is None:
            await self.app(scope, receive, send)
            return
        org, kind = found
        fault = self.controls.fault_for(org, kind)
        if fault is not None and fault != "lose_response":
            status, body = self.responders.get(fault, SERVICE_UNAVAILABLE)
            await _answer(send, status, body)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        status = next((m["status"] for m in held if m["type"] == "http.response.start"), 500)
        committed = 200 <= status < 300
        for rule in self.controls.commit(org, kind) if committed else []:
            if rule.action is not None:
                self.actions[rule.action](rule.args)  # e.g. a revocation, mid-run by construction
                continue
            self.controls.kill_workers(org)
            fault = "lose_response"  # the worker is dead; nobody reads the answer
        if fault == "lose_response":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"1000")],
                }
            )
            raise ResponseLost("injected fault: write committed, response lost")
        for message in held:
            await send(message)

    async def _control(self, scope: Scope, receive: Any, send: Any, what: str) -> None:
        body = await _read_json(receive)
        method = scope.get("method", "GET")
        c = self.controls
        result: Any
        if what == "health":
            result = {"ok": True}
        elif what == "faults" and method == "DELETE":
            where = _query(scope).get("scope")
            c.rules[:] = [r for r in c.rules if where is not None and r.scope != where]
            result = {"rules": len(c.rules)}
        elif what == "faults":
            for raw in body.get("rules", []):
                c.rules.append(FaultRule(**raw))
            result = {"rules": len(c.rules)}
        elif what == "kill" and method == "DELETE":
            where = _query(scope).get("scope")
            c.kills[:] = [k for k in c.kills if where is not None and k.scope != where]
            for key in [k for k in c.pids if where is None or k == where]:
                del c.pids[key]
            result = {"kills": len(c.kills)}
        elif what == "kill":
            where = str(body.get("scope", "*"))
            if body.get("pid"):
                c.pids.setdefault(where, set()).add(int(body["pid"]))
            action = body.get("action")
            if action is not None and action not in self.actions:
                await _answer(send, 400, json.dumps({"error": f"no action {action!r}"}).encode())
                return
            if int(body.get("after", 0)) > 0:
                kind = str(body.get("kind", "*"))
                args = dict(body.get("args") or {})
                c.kills.append(KillRule(kind, where, int(body["after"]), action, args))
            result = {"kills": len(c.kills)}
        elif what == "counters":
            result = {"committed": c.committed, "injected": c.injected, "killed": c.killed}
        elif what.partition("/")[0] == "export" and (what.partition("/")[2] or "books") in (
            self.exporters
        ):
            result = self.exporters[what.partition("/")[2] or "books"](_query(scope))
        elif what.startswith("action/") and what.removeprefix("action/") in self.actions:
            result = self.actions[what.removeprefix("action/")](body)
        else:
            await _answer(send, 404, json.dumps({"error": f"no control {what!r}"}).encode())
            return
        await _answer(send, 200, json.dumps(result, default=str).encode())


def _query(scope: Scope) -> dict[str, str]:
    from urllib.parse import parse_qsl

    raw: bytes = scope.get("query_string", b"")
    return dict(parse_qsl(raw.decode("latin-1")))


async def _replayable(receive: Callable[[], Awaitable[Message]]) -> tuple[Any, bytes]:
    """The request body, and a ``receive`` that hands the same messages on to the app."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if not message.get("more_body"):
            break
    replay = iter(messages)

    async def again() -> Message:
        return next(replay, {"type": "http.disconnect"})

    return again, b"".join(m.get("body", b"") for m in messages)


async def _read_json(receive: Callable[[], Awaitable[Message]]) -> dict[str, Any]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    if not raw:
        return {}
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
