"""Bulk operations: run a query over every record, write real JSONL, serve the file.

As on Shopify: one query operation at a time, at most five connections, and
the result is one JSON object per line where rows of nested connections carry
``__parentId``.  ``interleave`` delays child rows by that many root rows
("children come after their parent, not necessarily directly after").
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    execute_sync,
    get_named_type,
    parse,
    validate,
    visit,
)

from .resolvers import Resolver
from .seed import iso

MAX_CONNECTIONS = 5
SLICE = 200


def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and (
        isinstance(value.get("edges"), list) or isinstance(value.get("nodes"), list)
    )


def _items(connection: dict[str, Any]) -> list[dict[str, Any]]:
    if "edges" in connection:
        return [e["node"] for e in connection["edges"]]
    return list(connection["nodes"])


def flatten(node: dict[str, Any], parent: str | None) -> list[dict[str, Any]]:
    """One row for ``node`` (connections removed) followed by its descendants' rows."""
    row: dict[str, Any] = {}
    children: list[dict[str, Any]] = []
    for key, value in node.items():
        if _is_connection(value):
            children.append(value)
        else:
            row[key] = value
    if parent is not None:
        row["__parentId"] = parent
    rows = [row]
    for connection in children:
        for child in _items(connection):
            rows += flatten(child, node.get("id"))
    return rows


def count_connections(schema: GraphQLSchema, document: Any) -> int:
    info = TypeInfo(schema)
    found = 0

    class Counter(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            nonlocal found
            field_type = info.get_type()
            if field_type is not None and get_named_type(field_type).name.endswith("Connection"):
                found += 1

    visit(document, TypeInfoVisitor(info, Counter()))
    return found


@dataclass
class BulkOperation:
    number: int
    query: str
    created_at: str
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def gid(self) -> str:
        return f"gid://shopify/BulkOperation/{self.number}"

    def as_graphql(self) -> dict[str, Any]:
        return {
            "id": self.gid,
            "status": self.status,
            "errorCode": self.error_code,
            "type": "QUERY",
            "query": self.query,
            "createdAt": self.created_at,
            "completedAt": self.completed_at,
            "objectCount": str(self.object_count),
            "rootObjectCount": str(self.root_object_count),
            "fileSize": None if self.file_size is None else str(self.file_size),
            "url": self.url,
            "partialDataUrl": None,
        }


class BulkOperations:
    def __init__(
        self,
        schema: GraphQLSchema,
        resolver: Resolver,
        directory: Path,
        *,
        interleave: int = 0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.schema = schema
        self.resolver = resolver
        self.directory = directory
        self.interleave = interleave
        self.now = now or (lambda: datetime.now(UTC))
        self._numbers = itertools.count(1)
        self._current: BulkOperation | None = None
        self._lock = threading.Lock()

    def current(self) -> BulkOperation | None:
        return self._current

    def path(self, number: int) -> Path:
        return self.directory / f"bulk-{number}.jsonl"

    def start(self, query: str, context: dict[str, Any]) -> dict[str, Any]:
        def refused(message: str) -> dict[str, Any]:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": message}]}

        with self._lock:
            if self._current is not None and self._current.status in ("CREATED", "RUNNING"):
                return refused(
                    f"A bulk query operation for this app and shop is already in progress: "
                    f"{self._current.gid}."
                )
            try:
                document = parse(query)
            except GraphQLSyntaxError as exc:
                return refused(f"Invalid bulk query: {exc.message}")
            errors = validate(self.schema, document)
            if errors:
                return refused("Invalid bulk query: " + "; ".join(e.message for e in errors))
            connections = count_connections(self.schema, document)
            if connections == 0:
                return refused("Bulk queries must contain at least one connection.")
            if connections > MAX_CONNECTIONS:
                return refused(
                    f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
                )
            op = BulkOperation(next(self._numbers), query, iso(self.now()), status="RUNNING")
            self._current = op
        ctx = {k: v for k, v in context.items() if k in ("scopes", "shop_name", "shop_domain")}
        thread = threading.Thread(
            target=self._run, args=(op, document, ctx, context.get("base_url", "")), daemon=True
        )
        thread.start()
        return {"bulkOperation": op.as_graphql(), "userErrors": []}

    def _run(self, op: BulkOperation, document: Any, context: dict[str, Any], base: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(op.number)
        ctx: dict[str, Any] = {**context, "bulk": True, "bulk_after": None, "bulk_limit": SLICE}
        pending: deque[tuple[int, list[dict[str, Any]]]] = deque()
        roots = 0
        try:
            with path.open("w", encoding="utf-8") as out:

                def write(rows: list[dict[str, Any]]) -> None:
                    for row in rows:
                        out.write(json.dumps(row, default=str, separators=(",", ":")) + "\n")
                    op.object_count += len(rows)

                while True:
                    result = execute_sync(
                        self.schema, document, context_value=ctx, field_resolver=self.resolver
                    )
                    if result.errors:
                        op.error_code = _error_code(result.errors)
                        op.status = "FAILED"
                        return
                    assert result.data is not None
                    root = next(iter(result.data.values()))
                    for node in _items(root):
                        rows = flatten(node, None)
                        write(rows[:1])
                        roots += 1
                        pending.append((roots + self.interleave, rows[1:]))
                        while pending and pending[0][0] <= roots:
                            write(pending.popleft()[1])
                    op.root_object_count = roots
                    if not ctx.get("bulk_more"):
                        break
                while pending:
                    write(pending.popleft()[1])
            op.file_size = path.stat().st_size
            op.url = f"{base.rstrip('/')}/_bulk/{path.name}"
            op.status = "COMPLETED"
            op.completed_at = iso(self.now())
        except (
            Exception
        ):  # the operation fails as Shopify's would; the thread must not die silently
            op.status = "FAILED"
            op.error_code = "INTERNAL_SERVER_ERROR"
        finally:
            op.done.set()


def _error_code(errors: list[GraphQLError]) -> str:
    for error in errors:
        if (error.extensions or {}).get("code") == "ACCESS_DENIED":
            return "ACCESS_DENIED"
    return "INTERNAL_SERVER_ERROR"
