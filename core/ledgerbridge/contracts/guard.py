"""The mapping guard: one record that cannot be mapped is parked, never a crashed run.

Platform JSON is input nobody controls: a line item that is ``7`` instead of an
object, an amount of ``"sNaN"``, a field that is a list where a string was
documented.  Mappers validate what they can at the edge (``parse_amount``,
``objects``) and raise ``ValidationFailed`` naming the field; whatever else
escapes a mapper -- ``AttributeError``, ``TypeError``, ``KeyError``, a
``decimal`` signal -- is a shape nobody foresaw.  Every source runs each
record's mapping through ``mapped`` (or ``guarded`` around a single fetch), so
either way the engine receives a ``Change`` carrying a ``ValidationFailed`` that
says which record, which field (where known) and which exception, and parks that
record while the rest of the page syncs.

The field path is known when the failure says it (``details["field"]`` from the
edge readers, a pydantic error location) or, for an unforeseen exception, from
the innermost mapper frame that holds the path it was reading in a local named
``at`` or ``where`` -- the convention the built-in mappers follow.  A local assigned in
a loop outlives the loop: a later failure in the same frame (a top-level field read
after the loop) would be named after the loop's last element.  So such a local counts
only while the failing line is inside a loop that assigns it (``_left_over``), and the
built-in mappers read a list's elements in a helper whose ``where`` parameter is the
element's path (``tests/shopify/test_rest_field_paths.py`` keeps the REST mapper so).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

from pydantic import ValidationError

from ..canonical import CanonicalRecord, EntityType
from ..errors import SyncError, ValidationFailed
from .source import Change

_PATH_LOCALS = ("at", "where")
_MESSAGE_LIMIT = 300
MAX_ID_LENGTH = 200
"""The store keys records on ids of at most this many characters."""
MAX_VERSION_LENGTH = 100
"""The store keeps versions of at most this many characters; longer ones are digested."""
INVALID_ID = "invalid-id:"
"""Prefix of the stand-in for an id that cannot be one (see ``record_id``)."""


def record_id(value: Any) -> str:
    """A platform id as the string the store keys on.

    A string or integer of 1-200 characters is itself.  Anything else -- a missing
    id, an object, a boolean, ``nan``, a 5,000-digit number, a 100,000-character
    string -- becomes a stable stand-in ``invalid-id:<digest>`` (the same payload gives
    the same stand-in, so a re-read finds the same parked record), which ``mapped``
    parks instead of mapping.
    """
    if isinstance(value, str):
        text = value.strip()
        if 0 < len(text) <= MAX_ID_LENGTH and text.isprintable():
            return text
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 600:
        text = str(value)
        if len(text) <= MAX_ID_LENGTH:
            return text
    return INVALID_ID + _digest(value)


def record_version(value: Any) -> str | None:
    """A version marker the store can keep: blank is None, a long one is digested."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else record_id(value)
    if not text:
        return None
    if len(text) > MAX_VERSION_LENGTH:
        return "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:40]
    return text


def _digest(value: Any) -> str:
    try:
        shown = repr(value)
    except ValueError:  # an int too long for repr(): its bytes identify it as well
        shown = f"int:{value.to_bytes((value.bit_length() + 8) // 8, 'big', signed=True).hex()}"
    return hashlib.sha256(shown.encode("utf-8", "replace")).hexdigest()[:16]


def mapped(
    entity: EntityType,
    external_id: str,
    version: str | None,
    build: Callable[[], CanonicalRecord],
    *,
    platform: str,
    deleted: bool = False,
) -> Change:
    """``build()`` as a Change -- or a Change carrying why it failed; never an exception.

    A ``SyncError`` the mapper raised on purpose (``ValidationFailed``,
    ``TotalsMismatch``, ``NeedsMapping``) travels unchanged; anything else becomes
    a ``ValidationFailed`` from ``unmappable``.  A record whose id is not one
    (``record_id`` gave a stand-in) is parked without mapping; a version too long to
    store is digested.
    """
    version = record_version(version)
    if external_id.startswith(INVALID_ID) or len(external_id) > MAX_ID_LENGTH:
        if len(external_id) > MAX_ID_LENGTH:
            external_id = INVALID_ID + _digest(external_id)
        refused = ValidationFailed(
            f"{platform} {entity.value} has an id that is not a platform id "
            f"(wrong type, blank, or longer than {MAX_ID_LENGTH} characters); "
            f"parked as {external_id}",
            platform=platform,
            details={"field": "id"},
        )
        return Change(entity=entity, external_id=external_id, version=version, error=refused)
    try:
        record = build()
    except Exception as exc:
        error = unmappable(exc, platform=platform, entity=entity, external_id=external_id)
        return Change(entity=entity, external_id=external_id, version=version, error=error)
    return Change(
        entity=entity, external_id=external_id, version=version, record=record, deleted=deleted
    )


@contextmanager
def guarded(platform: str, entity: EntityType, external_id: str) -> Iterator[None]:
    """Around a single fetch's mapping: any exception leaves as a ``SyncError``."""
    try:
        yield
    except Exception as exc:
        raise unmappable(exc, platform=platform, entity=entity, external_id=external_id) from exc


def unmappable(
    exc: BaseException, *, platform: str, entity: EntityType, external_id: str
) -> SyncError:
    """The error a record is parked with when mapping it raised ``exc``.

    ``SyncError`` passes through (with the field recorded when the path is known);
    other exceptions become ``ValidationFailed`` whose message names the record, the
    field and the exception, and whose ``details`` carry ``exception`` and ``field``.
    """
    path = field_path(exc)
    if isinstance(exc, SyncError):
        if path is not None:
            exc.details.setdefault("field", path)
        return exc
    kind = type(exc).__name__
    detail = _short(str(exc)) or kind
    at = f" at {path}" if path else ""
    return ValidationFailed(
        f"{platform} {entity.value} {external_id} could not be mapped{at}: {kind}: {detail}",
        platform=platform,
        details={"exception": kind, "field": path},
    )


def field_path(exc: BaseException) -> str | None:
    """Where in the record ``exc`` happened, when that can be known."""
    if isinstance(exc, SyncError):
        field = exc.details.get("field")
        if isinstance(field, str):
            return field
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False)
        if errors:
            return ".".join(str(p) for p in errors[0]["loc"]) or None
    tb = exc.__traceback__
    found: str | None = None
    while tb is not None:  # outermost to innermost: the last frame that names a path wins
        frame_locals = tb.tb_frame.f_locals
        for name in _PATH_LOCALS:
            value = frame_locals.get(name)
            if (
                isinstance(value, str)
                and value
                and not _left_over(tb.tb_frame.f_code, name, tb.tb_lineno)
            ):
                found = value
                break
        tb = tb.tb_next
    return found


def _left_over(code: CodeType, name: str, line: int) -> bool:
    """Whether the path local ``name`` is a loop's leftover at ``line``: loops of the function
    assign it and ``line`` is in none of them.  A local assigned in a loop keeps the last
    element's path after the loop, and would name a later failure after that element."""
    loops = _loops_assigning(code, name)
    return bool(loops) and not any(first <= line <= last for first, last in loops)


@functools.lru_cache(maxsize=512)
def _loops_assigning(code: CodeType, name: str) -> tuple[tuple[int, int], ...]:
    """The line spans of the loops in ``code``'s own body that assign ``name`` (none when its
    source cannot be read, or for a comprehension or lambda, whose path is its loop's)."""
    if code.co_name.startswith("<"):
        return ()
    try:
        lines, first = inspect.getsourcelines(code)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return ()
    if not tree.body or not isinstance(tree.body[0], ast.FunctionDef | ast.AsyncFunctionDef):
        return ()
    offset = first - 1
    return tuple(
        (loop.lineno + offset, (loop.end_lineno or loop.lineno) + offset)
        for loop in _own_nodes(tree.body[0])
        if isinstance(loop, ast.For | ast.AsyncFor | ast.While)
        and any(
            isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
            for node in _own_nodes(loop)
        )
    )


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """``node``'s descendants in the same frame (not inside a nested function or class)."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
        ):
            yield from _own_nodes(child)


def objects(value: Any, where: str, *, platform: str | None = None) -> list[dict[str, Any]]:
    """A JSON array of objects (``null`` or absent: empty), checked at the edge.

    ``line_items: 7`` or ``line_items[0] = 7`` is refused with a ``ValidationFailed``
    naming the path instead of an ``AttributeError`` three calls later.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailed(
            f"{where} is not an array of objects (got {type(value).__name__})",
            platform=platform,
            details={"field": where},
        )
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            at = f"{where}[{i}]"
            raise ValidationFailed(
                f"{at} is not an object (got {type(item).__name__})",
                platform=platform,
                details={"field": at},
            )
    return value


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else f"{text[: _MESSAGE_LIMIT - 3]}..."


__all__ = [
    "field_path",
    "guarded",
    "mapped",
    "objects",
    "record_id",
    "record_version",
    "unmappable",
]
