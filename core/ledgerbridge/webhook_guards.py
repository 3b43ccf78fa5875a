"""Guards for what an authentic webhook delivery carries, shared by every source.

A correct signature proves who sent a body, not that the body is sane.  Sources
parse deliveries with ``load_json`` (nesting is bounded *before* parsing: a deeply
nested body would otherwise raise RecursionError, a 500) and turn the record id they
read into the inbox's form with ``record_id``; the receiver checks every field of the
event against the inbox's column sizes (``check_event``) before storing it.  Each
refusal is ``WebhookMalformed``: answered 400, nothing stored.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .contracts.source import WebhookEvent
from .errors import WebhookMalformed

MAX_JSON_DEPTH = 64
MAX_NUMBER_DIGITS = 200  # an integer longer than any id or amount (Python refuses > 4300)
MAX_ID_LENGTH = 200  # InboxEvent.external_id / delivery_id
MAX_TOPIC_LENGTH = 100  # InboxEvent.topic
MAX_VERSION_LENGTH = 100  # InboxEvent.version

# A JSON string (escapes included); what is left outside strings are the brackets that nest.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")  # nesting depth does not care which kind


def nested_deeper_than(body: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``limit`` (without parsing it).

    Strings are cut out, every byte but brackets dropped (``{}`` read as ``[]``), then
    innermost ``[]`` pairs removed ``limit`` times: anything left is deeper (a run of
    more than ``limit`` opening brackets is, at once).  Each step runs at C speed;
    unbalanced or mismatched text is left for the JSON parser to refuse.
    """
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    brackets = _STRING.sub(b"", raw).translate(_AS_SQUARE, _NOT_BRACKETS)
    run = b"[" * (limit + 1)
    for _ in range(limit):
        if not brackets:
            return False
        if run in brackets:
            return True
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return False
        brackets = shorter
    return bool(brackets)


def load_json(body: bytes | str, what: str, **options: Any) -> Any:
    """``json.loads(body, **options)`` for a delivery body, nesting bounded first.

    A body that is not JSON raises ``ValueError`` as ``json.loads`` does (each source
    says so in its own words); one nested too deeply raises ``WebhookMalformed``.
    """
    too_deep = WebhookMalformed(f"{what}: the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    if nested_deeper_than(body):
        raise too_deep

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
            raise WebhookMalformed(f"{what}: a number of more than {MAX_NUMBER_DIGITS} digits")
        return int(digits)

    try:
        return json.loads(body, parse_int=integer, **options)
    except RecursionError:
        raise too_deep from None


def record_id(value: Any, what: str) -> str:
    """A platform record id as the inbox stores it: a string of 1-200 printable
    characters; an integer is written in decimal.  Anything else -- true/false, a
    number with a fraction, NaN, an object, a list, an integer of more than 200
    digits -- is not an id.  (The value itself is not echoed: it may be huge.)"""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise WebhookMalformed(f"{what}: the id is {_kind(value)}, not a string or an integer")
    if isinstance(value, int) and value.bit_length() > MAX_ID_LENGTH * 4:  # > 200 digits
        raise WebhookMalformed(f"{what}: the id is an integer of more than 200 digits")
    text = str(value)
    _check_text(text, what, "the id", MAX_ID_LENGTH)
    if text != text.strip():
        raise WebhookMalformed(f"{what}: the id has leading or trailing blanks")
    if text.lower() in _NOT_IDS or text.startswith(("{", "[")):
        # a JSON value written out as a string by a broken sender ("nan", "{'x': 1}")
        raise WebhookMalformed(f"{what}: the id looks like a JSON value, not a platform id")
    return text


_NOT_IDS = frozenset({"true", "false", "none", "null", "nan", "inf", "-inf", "infinity"})


def check_event(event: WebhookEvent, what: str) -> None:
    """Every field of a parsed event fits the inbox: right type, bounded, printable."""
    _check_text(event.delivery_id, what, "the delivery id", MAX_ID_LENGTH)
    _check_text(event.external_id, what, "the record id", MAX_ID_LENGTH)
    _check_text(event.topic, what, "the topic", MAX_TOPIC_LENGTH)
    if event.version is not None:
        _check_text(event.version, what, "the version", MAX_VERSION_LENGTH)


def _check_text(value: Any, what: str, field: str, limit: int) -> None:
    if not isinstance(value, str):
        raise WebhookMalformed(f"{what}: {field} is {_kind(value)}, not a string")
    if not value.strip():
        raise WebhookMalformed(f"{what}: {field} is empty")
    if len(value) > limit:
        raise WebhookMalformed(f"{what}: {field} is {len(value)} characters long (at most {limit})")
    if not value.isprintable():
        raise WebhookMalformed(f"{what}: {field} holds control characters")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return f"a {type(value).__name__}"
