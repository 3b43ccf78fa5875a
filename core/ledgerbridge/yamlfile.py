"""YAML files that remember where every value came from.

Config and mapping files are written by people; an error must name
``file:line:column``.  ruamel.yaml keeps positions on the nodes it loads; this
module turns a document into plain Python data plus a position index, expands
``${ENV_VAR}`` references, and translates pydantic errors back into positions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from .errors import ConfigError, SourceLocation

Loc = tuple[str | int, ...]

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass
class YamlDocument:
    """Plain data loaded from YAML, with the position of every key and value."""

    path: str
    data: Any
    positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)

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
        for err in exc.errors(include_url=False):
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
        return ConfigError(problems)


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
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                [(SourceLocation(name), f"cannot read file: {exc.strerror}")]
            ) from exc
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        node = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (
            SourceLocation(name, mark.line + 1, mark.column + 1) if mark else SourceLocation(name)
        )
        raise ConfigError([(where, f"invalid YAML: {exc.problem or exc.context}")]) from exc
    doc = YamlDocument(name, None)
    problems: list[tuple[SourceLocation, str]] = []
    doc.data = _plain(node, (), doc, problems, interpolate)
    if problems:
        raise ConfigError(problems)
    return doc


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
