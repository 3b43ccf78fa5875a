"""YAML files that remember where every value came from.

Config and mapping files are written by people; an error must name
``file:line:column``.  ruamel.yaml keeps positions on the nodes it loads; this
module turns a document into plain Python data plus a position index, expands
``${ENV_VAR}`` references, and translates pydantic errors back into positions.

A YAML file is input like any other, so loading is bounded (``docs/configuration.md``):
at most ``MAX_DOCUMENT_BYTES``, nested at most ``MAX_DEPTH`` levels, at most
``MAX_NODES`` values once aliases are expanded (a "billion laughs" file of a few hundred
bytes would otherwise expand to gigabytes), UTF-8 only; each refusal names
``file:line:column``, in well under a second.  At most ``MAX_REPORTED_PROBLEMS``
schema problems are listed (the rest are counted), so a file of 100,000 unknown keys
is reported as fast as one with three.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from .errors import ConfigError, SourceLocation

Loc = tuple[str | int, ...]

MAX_DOCUMENT_BYTES = 512 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
MAX_REPORTED_PROBLEMS = 50
# More than MAX_DEPTH opening brackets in a row: refused before the parser sees them (its
# scanner looks ~1,000 characters ahead in O(n^2) before the depth bound can act).
_FLOW_RUN = re.compile(rf"(?:[\[{{][ \t\r\n]*){{{MAX_DEPTH + 1}}}")

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class YamlDocument:
    """Plain data loaded from YAML, with the position of every key and value."""

    path: str
    data: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    # where a value came (at least in part) from a ``${ENV_VAR}`` reference, not the file
    interpolated: set[Loc] = field(default_factory=set)

    def locate(self, loc: Loc) -> SourceLocation:
        """The position of ``loc`` or of its nearest ancestor that has one."""
        probe = tuple(loc)
        while probe:
            if probe in self.positions:
                line, col = self.positions[probe]
                return SourceLocation(self.path, line, col)
            probe = probe[:-1]
        return SourceLocation(self.path, 1, 1)

    def error(self, loc: Loc, message: str) -> ConfigError:
        return ConfigError([(self.locate(loc), message)])

    def validation_error(
        self, exc: ValidationError, prefix: Loc = (), model: type[BaseModel] | None = None
    ) -> ConfigError:
        """Turn every pydantic error into ``file:line:col: field: what was expected``.

        With ``model`` (the class validated), an unknown key gets a "did you mean" hint.
        """
        problems = []
        errors = exc.errors(include_url=False)
        for err in errors[:MAX_REPORTED_PROBLEMS]:
            inner = tuple(p for p in err["loc"] if not _is_pydantic_tag(p))
            if err["type"] == "extra_forbidden" and (not inner or inner[-1] != err["loc"][-1]):
                inner = (*inner, err["loc"][-1])  # a key that looks like a tag: ``dat[a``
            loc = prefix + inner
            where = ".".join(str(p) for p in loc) or "(top level)"
            message = err["msg"].removeprefix("Value error, ")
            at = loc
            if err["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}" + _suggest(model, inner)
            elif err["type"] == "missing":
                message = "required key is missing"
            elif (*loc, "<value>") in self.positions:
                at = (*loc, "<value>")  # point at the wrong value, not its key
            problems.append((self.locate(at), f"{where}: {message}"))
        return ConfigError(problems + more_problems(self.path, len(errors)))


def more_problems(path: str, total: int) -> list[tuple[SourceLocation, str]]:
    """The line that stands for the problems past ``MAX_REPORTED_PROBLEMS``."""
    if total <= MAX_REPORTED_PROBLEMS:
        return []
    hidden = total - MAX_REPORTED_PROBLEMS
    return [(SourceLocation(path), f"... and {hidden} more problem(s) not listed")]


def _is_pydantic_tag(part: Any) -> bool:
    # Discriminated unions insert the tag (e.g. 'function-after[...]') into loc.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _suggest(model: type[BaseModel] | None, loc: Loc) -> str:
    """A close known key for the unknown key at ``loc`` (walks the model's fields)."""
    import difflib

    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        current = _model_in(field.annotation) if field is not None else None
    if current is None or not hasattr(current, "model_fields"):
        return ""
    match = difflib.get_close_matches(str(loc[-1]), list(current.model_fields), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``list[M]``, ``dict[str, M]``, ``M | None``..."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def load_yaml(
    path: str | Path, *, text: str | None = None, interpolate: bool = True
) -> YamlDocument:
    """Load one YAML file; every problem raises ``ConfigError`` with a position."""
    name = str(path)
    if text is None:
        text = _read_text(name)
    elif len(text) > MAX_DOCUMENT_BYTES:
        raise _too_large(name)
    _check_flow_run(text, name)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.max_depth = MAX_DEPTH
    try:
        node = yaml.load(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        where = (
            SourceLocation(name, mark.line + 1, mark.column + 1) if mark else SourceLocation(name)
        )
        raise ConfigError(
            [(where, f"invalid YAML: nested deeper than {MAX_DEPTH} levels")]
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (
            SourceLocation(name, mark.line + 1, mark.column + 1) if mark else SourceLocation(name)
        )
        raise ConfigError([(where, f"invalid YAML: {exc.problem or exc.context}")]) from exc
    except ReaderError as exc:
        line, column = _position(text, exc.position)
        what = f"character U+{exc.character:04X}" if isinstance(exc.character, int) else "byte"
        raise ConfigError(
            [(SourceLocation(name, line, column), f"invalid YAML: {what} is not allowed in YAML")]
        ) from None
    except RecursionError:
        raise ConfigError(
            [(SourceLocation(name), f"invalid YAML: nested deeper than {MAX_DEPTH} levels")]
        ) from None
    except YAMLError as exc:
        raise ConfigError([(SourceLocation(name), f"invalid YAML: {exc}")]) from None
    except ValueError as exc:  # a scalar YAML resolves but Python cannot build (2026-02-30)
        where = _unbuildable_scalar(yaml, text, name)
        raise ConfigError([(where, f"invalid value: {str(exc)[:200]}")]) from None
    _check_expanded_size(node, name)
    doc = YamlDocument(name, None)
    problems: list[tuple[SourceLocation, str]] = []
    doc.data = _plain(node, (), doc, problems, interpolate)
    if problems:
        raise ConfigError(problems)
    return doc


def _unbuildable_scalar(yaml: YAML, text: str, name: str) -> SourceLocation:
    """Where the scalar is that YAML resolves to an int or a date Python cannot build (5,000
    digits, February 30th): the constructor's ``ValueError`` carries no position."""
    try:
        root = yaml.compose(text)
    except Exception:  # the composer failing too: the file is as far as we can point
        return SourceLocation(name)
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node.value, list):
            for item in node.value:
                stack.extend(item if isinstance(item, tuple) else (item,))
            continue
        tag = str(getattr(node.tag, "value", node.tag) or "")
        try:
            digits = str(node.value).lstrip("+-").replace("_", "")
            if tag.endswith(":int") and len(digits) > sys.get_int_max_str_digits():
                raise ValueError(digits)
            if tag.endswith(":timestamp"):
                date.fromisoformat(str(node.value)[:10])
        except ValueError:
            mark = node.start_mark
            return SourceLocation(name, mark.line + 1, mark.column + 1)
    return SourceLocation(name)


def _check_flow_run(text: str, name: str) -> None:
    """A run of brackets nested deeper than ``MAX_DEPTH``, unless it may sit in a quoted
    string or a comment (then the parser itself decides, slower but exact)."""
    for run in _FLOW_RUN.finditer(text):
        line_start = text.rfind("\n", 0, run.start()) + 1
        if any(c in text[line_start : run.start()] for c in "'\"#"):
            continue
        line, column = _position(text, run.start())
        raise ConfigError(
            [
                (
                    SourceLocation(name, line, column),
                    f"invalid YAML: nested deeper than {MAX_DEPTH} levels",
                )
            ]
        )


def _read_text(name: str) -> str:
    """The file as text: at most ``MAX_DOCUMENT_BYTES``, UTF-8 (a BOM is allowed)."""
    try:
        with open(name, "rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise ConfigError([(SourceLocation(name), f"cannot read file: {exc.strerror}")]) from exc
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _too_large(name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(
            [(SourceLocation(name, 1, 1), "the file is UTF-16; save it as UTF-8")]
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[start : exc.start].decode("utf-8", errors="replace")) + 1
        raise ConfigError(
            [
                (
                    SourceLocation(name, line, column),
                    f"the file is not UTF-8: byte 0x{data[exc.start]:02x} cannot be read "
                    "(save the file as UTF-8)",
                )
            ]
        ) from None


def _too_large(name: str) -> ConfigError:
    return ConfigError(
        [
            (
                SourceLocation(name, 1, 1),
                f"the file is larger than {MAX_DOCUMENT_BYTES} bytes, the most a config or "
                "mapping file may hold",
            )
        ]
    )


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` in ``text``."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check_expanded_size(root: Any, name: str) -> None:
    """Refuse a document whose aliases expand past ``MAX_NODES`` values, before anything
    is expanded: an alias is the same object as its anchor, so each distinct node is
    sized once.  (ruamel.yaml loads an alias inside its own anchor as null: no cycles.)"""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, CommentedMap | CommentedSeq):
            return 1
        known = sizes.get(id(node))
        if known is None:
            children = node.values() if isinstance(node, CommentedMap) else node
            known = sizes[id(node)] = 1 + sum(size(child) for child in children)
        return known

    total = size(root)
    if total <= MAX_NODES:
        return
    # point at the outermost key or item whose value alone is too large
    where = SourceLocation(name, 1, 1)
    node = root
    while isinstance(node, CommentedMap | CommentedSeq):
        items = node.items() if isinstance(node, CommentedMap) else enumerate(node)
        child = next(((k, v) for k, v in items if size(v) > MAX_NODES), None)
        if child is None:
            break
        where = _child_location(node, child[0], name) or where
        node = child[1]
    raise ConfigError(
        [
            (
                where,
                f"invalid YAML: expands to {total} values through aliases (*name); "
                f"at most {MAX_NODES} are allowed",
            )
        ]
    )


def _child_location(node: Any, key: Any, name: str) -> SourceLocation | None:
    try:
        if isinstance(node, CommentedMap):
            line, column = node.lc.key(key)
        else:
            line, column = node.lc.item(key)
    except (KeyError, TypeError, IndexError):
        return None
    return SourceLocation(name, line + 1, column + 1)


def _plain(
    node: Any,
    loc: Loc,
    doc: YamlDocument,
    problems: list[tuple[SourceLocation, str]],
    interpolate: bool,
) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            child = (*loc, str(key))
            try:
                kline, kcol = node.lc.key(key)
                doc.positions[child] = (kline + 1, kcol + 1)
                vline, vcol = node.lc.value(key)
                doc.positions[(*child, "<value>")] = (vline + 1, vcol + 1)
            except (KeyError, TypeError):
                pass
            out[str(key)] = _plain(value, child, doc, problems, interpolate)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*loc, index)
            try:
                line, col = node.lc.item(index)
                doc.positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            items.append(_plain(value, child, doc, problems, interpolate))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, float):
        # YAML floats become exact decimals: 0.06 means 0.06, not 0.059999...
        return Decimal(repr(float(node)))
    if isinstance(node, int):
        return int(node)
    if isinstance(node, str):
        value = str(node)
        if interpolate and "$" in value:
            if any(match.group(1) for match in _ENV_REF.finditer(value)):
                doc.interpolated.add(loc)
            return _interpolate(value, loc, doc, problems)
        return value
    return node


def _interpolate(
    value: str, loc: Loc, doc: YamlDocument, problems: list[tuple[SourceLocation, str]]
) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found is None:
            if default is not None:
                return default
            problems.append(
                (
                    doc.locate(loc),
                    f"environment variable {name} is not set (referenced as ${{{name}}})",
                )
            )
            return ""
        return found

    return _ENV_REF.sub(replace, value)
