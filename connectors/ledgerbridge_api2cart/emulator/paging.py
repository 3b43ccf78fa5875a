"""The list methods' pages: filters and sort order, then server-side cursors.

A first call filters and sorts the ids and answers ``start``/``count`` of them; the
``pagination.next`` cursor it returns must then be sent alone (any other parameter is
refused), and keeps the first call's ``params``/``response_fields``/``rounding_precision``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from .envelope import envelope
from .fieldspec import apply_params, apply_response_fields
from .params import MAX_COUNT, read_int, read_when, stamp_of
from .state import A2CError, Cursor, EmulatorState


def page(
    state: EmulatorState,
    method: str,
    store_key: str,
    params: dict[str, str],
    ids: Callable[[], list[str]],
    lookup: Callable[[str], dict[str, Any] | None],
    result_key: str,
    count_key: str,
    default_params: str,
) -> dict[str, Any]:
    """One page of a list method: from ``page_cursor``, or from a first call's filters."""
    if "page_cursor" in params:
        if len(params) > 1:
            raise A2CError(109, "page_cursor can't be used with any other filtering parameter")
        cursor = state.cursors.get(params["page_cursor"])
        if cursor is None or cursor.method != method or cursor.store_key != store_key:
            raise A2CError(109, "Parameter 'page_cursor' is incorrect")
        fields = cursor.fields
    else:
        count = read_int(params, "count", 10)
        if count > MAX_COUNT:
            raise A2CError(111, f"Max allowed count={MAX_COUNT}")
        fields = {k: params[k] for k in ("params", "response_fields", "exclude") if k in params}
        if "rounding_precision" in params:
            fields["rounding_precision"] = params["rounding_precision"]
        cursor = Cursor(
            method, store_key, ids(), read_int(params, "start", 0), max(count, 1), fields
        )
    chunk = cursor.ids[cursor.offset : cursor.offset + cursor.count]
    items = [item for item in (lookup(i) for i in chunk) if item is not None]
    nxt = None
    if cursor.offset + cursor.count < len(cursor.ids):
        token = state.next_token()
        state.cursors[token] = Cursor(
            method, store_key, cursor.ids, cursor.offset + cursor.count, cursor.count, fields
        )
        nxt = quote(token, safe="")
    precision = int(fields.get("rounding_precision", state.default_precision))
    if "response_fields" not in fields:
        items = [
            apply_params(item, fields.get("params", default_params), fields.get("exclude"))
            for item in items
        ]
    body = envelope(
        {count_key: len(cursor.ids), result_key: items},
        pagination={"previous": None, "next": nxt},
        precision=precision,
    )
    if "response_fields" in fields:
        body = apply_response_fields(body, fields["response_fields"])
    return body


def filtered(
    records: Iterable[dict[str, Any]],
    params: dict[str, str],
    stamp_field: str,
    sortable: dict[str, Callable[[dict[str, Any]], Any]],
    default_sort: str,
) -> list[dict[str, Any]]:
    """The records a list call's ``modified_from``/``modified_to`` keep, in its sort order."""
    chosen = list(records)
    if "modified_from" in params:
        since = read_when(params["modified_from"], "modified_from")
        chosen = [r for r in chosen if stamp_of(r, stamp_field) >= since]
    if "modified_to" in params:
        until = read_when(params["modified_to"], "modified_to")
        chosen = [r for r in chosen if stamp_of(r, stamp_field) <= until]
    sort_by = params.get("sort_by", default_sort)
    if sort_by not in sortable:
        raise A2CError(109, f"Parameter 'sort_by' has a wrong value '{sort_by}'")
    direction = params.get("sort_direction", "asc")
    if direction not in ("asc", "desc"):
        raise A2CError(109, "Parameter 'sort_direction' has a wrong value")
    return sorted(chosen, key=sortable[sort_by], reverse=direction == "desc")
