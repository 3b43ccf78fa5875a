"""Logging for the ``ledgerbridge`` command: structlog over the standard library.

Why structlog over stdlib: the engine and the connectors log with plain
``logging.getLogger(__name__)`` (a host product embedding the engine keeps its own
logging), and the command line renders every record -- ours and the libraries'
(httpx, uvicorn, SQLAlchemy) -- through one ``ProcessorFormatter``: a timestamp, the
level, the logger, the ``tenant``/``pipeline`` a scheduler task bound
(``bound``), then either a human line or one JSON object per line.

Formats (``--log-format`` / ``LEDGERBRIDGE_LOG_FORMAT``):

* ``human`` (the default, on a terminal or not): ``2026-01-02T03:04:05Z [info] message
  key=value``; colours only on a terminal.  Redirecting stderr to a file does not
  switch formats: a log shipper is set up on purpose, with ``--log-format json``.
* ``json``: one object per line with ``timestamp``, ``level``, ``logger``, ``event``
  and the bound fields -- for a log shipper.

Every line goes through ``redact`` first: values under secret-looking keys and
secret-looking fragments inside text (``Authorization`` headers, bearer and Zoho
tokens, ``refresh_token=...`` query strings, passwords in URLs) are masked, so a
secret that reaches a log call never reaches the log.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

LEVELS = ("debug", "info", "warning", "error", "critical")
FORMATS = ("human", "json")
LEVEL_ENV = "LEDGERBRIDGE_LOG_LEVEL"
FORMAT_ENV = "LEDGERBRIDGE_LOG_FORMAT"
MASK = "[redacted]"

# Keys whose value is a secret wherever they appear (a dict logged whole, ``extra=``).
_SECRET_KEY = re.compile(
    r"(?i)(^|[_\-. ])(token|access[_-]?token|refresh[_-]?token|id[_-]?token|secret|"
    r"client[_-]?secret|app[_-]?secret|webhook[_-]?secret|password|passwd|pwd|"
    r"api[_-]?key|consumer[_-]?key|consumer[_-]?secret|store[_-]?key|private[_-]?key|"
    r"secret[_-]?key|authorization|cookie|set-cookie|credentials?|"
    r"grant[_-]?code|auth[_-]?code|signature|x-shopify-access-token|x-api-key|x-store-key)$"
)
# Fragments of text that carry a secret: (pattern, replacement).
_SECRET_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer x / Zoho-oauthtoken x / Basic x (header dumps, reprs)
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)([^'\",}\r\n]+)"),
        rf"\1{MASK}",
    ),
    (re.compile(r"(?i)\b(bearer|zoho-oauthtoken|basic)\s+[A-Za-z0-9._~+/=\-]+"), rf"\1 {MASK}"),
    # key=value / key: value / "key": "value" for secret-looking keys (oauth_signature,
    # x-api-key, refresh_token, client_secret, ...)
    (
        re.compile(
            r"(?i)(['\"]?\b[\w.-]*?(?:token|secret|password|passwd|api[_-]?key|apikey|"
            r"consumer[_-]?key|store[_-]?key|private[_-]?key|signature|grant_code)"
            r"['\"]?\s*[:=]\s*['\"]?)([^'\"&\s,;}]+)"
        ),
        rf"\1{MASK}",
    ),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^:/@\s]+:)([^@/\s]+)(@)"), rf"\1{MASK}\3"),
    # SecretStr's own rendering is already masked; a ``SecretStr('...')`` repr is too.
)
# Fields structlog adds itself: never secrets, never rewritten.
_OWN_FIELDS = frozenset({"timestamp", "level", "logger", "event", "tenant", "pipeline"})


def redact_text(text: str) -> str:
    """``text`` with every secret-looking fragment masked."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """A logged value with secrets masked: mappings by key, text by fragment."""
    if depth > 8:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: MASK if _is_secret_key(k) else redact_value(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    if hasattr(value, "get_secret_value"):  # pydantic SecretStr / SecretBytes
        return MASK
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_text(str(value))


def _is_secret_key(key: Any) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets in every field of a log line (see module doc)."""
    for key in list(event_dict):
        if key in _OWN_FIELDS and key != "event":
            continue
        value = event_dict[key]
        if key != "event" and _is_secret_key(key):
            event_dict[key] = MASK
        else:
            event_dict[key] = redact_value(value)
    return event_dict


def _utc_z(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """``2026-01-02T03:04:05.678Z``: UTC, milliseconds (structlog's iso has microseconds)."""
    stamp = event_dict.get("timestamp")
    if isinstance(stamp, str) and stamp.endswith("Z") and len(stamp) > 24:
        event_dict["timestamp"] = stamp[:23] + "Z"
    return event_dict


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now: a live progress display that redirects it
    prints log lines above its bars instead of through them."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _utc_z,
    ]


def resolve_level(level: str | None) -> int:
    """``--log-level``, else ``LEDGERBRIDGE_LOG_LEVEL``, else info."""
    name = (level or os.environ.get(LEVEL_ENV) or "info").strip().lower()
    if name not in LEVELS:
        raise ValueError(f"log level {name!r} is not one of {', '.join(LEVELS)}")
    return int(getattr(logging, name.upper()))


def resolve_format(fmt: str | None) -> str:
    """``--log-format``, else ``LEDGERBRIDGE_LOG_FORMAT``, else human."""
    name = (fmt or os.environ.get(FORMAT_ENV) or "human").strip().lower()
    if name not in FORMATS:
        raise ValueError(f"log format {name!r} is not one of {', '.join(FORMATS)}")
    return name


_state: dict[str, Any] = {"format": "human", "configured": False}


def json_logs() -> bool:
    """Whether the command logs JSON lines (progress then logs lines, never draws)."""
    return bool(_state["format"] == "json")


def configure(
    level: str | None = None, fmt: str | None = None, stream: TextIO | None = None
) -> None:
    """Route every log record of the process through structlog onto ``stream`` (stderr).

    Idempotent: a second call replaces the handler it installed."""
    numeric = resolve_level(level)
    name = resolve_format(fmt)
    out = stream or sys.stderr
    renderer: Processor
    if name == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        colors = hasattr(out, "isatty") and out.isatty() and "NO_COLOR" not in os.environ
        renderer = structlog.dev.ConsoleRenderer(
            colors=colors,
            pad_event_to=0,
            sort_keys=False,
            exception_formatter=structlog.dev.plain_traceback,  # never locals: secrets
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out) if stream is not None else _Stderr()
    handler.setFormatter(formatter)
    handler.set_name("ledgerbridge")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "ledgerbridge"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # Chatty libraries: their per-request INFO lines only at debug.
    quiet = logging.DEBUG if numeric <= logging.DEBUG else logging.WARNING
    for noisy in ("httpx", "httpcore", "hpack", "sqlalchemy.engine", "alembic", "asyncio"):
        logging.getLogger(noisy).setLevel(quiet)
    structlog.configure(
        processors=[
            *_shared(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    _state.update(format=name, configured=True)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Every log line inside (this task and the threads it starts) carries ``fields``."""
    with structlog.contextvars.bound_contextvars(**fields):
        yield


def uvicorn_log_config() -> dict[str, Any] | None:
    """What uvicorn should configure: nothing once ``configure`` ran (its loggers then
    propagate to ours), its own defaults otherwise."""
    if not _state["configured"]:
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    return None


__all__ = [
    "FORMATS",
    "LEVELS",
    "MASK",
    "bound",
    "configure",
    "json_logs",
    "redact",
    "redact_text",
    "redact_value",
    "resolve_format",
    "resolve_level",
    "uvicorn_log_config",
]
