"""``order.transaction.list`` (refdata api2cart-openapi ``/order.transaction.list.json``).

Parameters: ``order_ids`` (required), ``count`` (default 10, at most 250), ``page_cursor``,
``store_id``, ``params`` (default ``id,order_id,amount,description``), ``response_fields``,
``exclude``.  The answer is ``Model_Response_Order_Transaction_List``:
``result.transactions_count`` and ``result.transactions``, each an ``Order_Transaction``
(``id``, ``transaction_id``, ``order_id``, ``parent_id``, ``description``, ``status``,
``gateway``, ``reference_number``, ``currency``, ``amount``, ``created_time`` as
``A2CDateTime``, ``card_brand``, ``card_last_four``, ``is_test_mode``, ...).  The spec
enumerates no ``status`` values; the emulator's are plain words (``authorized``,
``captured``, ``voided`` ...) and tests choose them.  ``params`` selects fields as on
the other list methods (the spec: "which entity fields you want to retrieve"), so a
client that does not ask for ``status`` does not get it.  An unknown order id in
``order_ids`` simply has no transactions (the spec names no error for it, and the
parameter takes several ids).  Transactions are held per store in
``StoreData.transactions`` (order id -> list), added by tests or the sandbox.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .fieldspec import apply_params

ALLOWED = {
    "count", "page_cursor", "order_ids", "store_id", "params", "response_fields", "exclude",
}  # fmt: skip
DEFAULT_PARAMS = "id,order_id,amount,description"  # the spec's default for ``params``


def transaction(
    order: dict[str, Any],
    tid: str,
    status: str,
    amount: Decimal,
    when: str,
    *,
    gateway: str = "stripe",
    parent_id: str | None = None,
) -> dict[str, Any]:
    """An ``Order_Transaction`` of ``order``."""
    return {
        "id": tid,
        "transaction_id": f"ch_{tid}",
        "order_id": order["id"],
        "parent_id": parent_id,
        "description": status,
        "status": status,
        "gateway": gateway,
        "reference_number": None,
        "currency": order["currency"]["iso3"],
        "amount": amount,
        "created_time": {"value": when, "format": "Y-m-d\\TH:i:sO"},
        "settlement_currency": None,
        "settlement_amount": None,
        "card_brand": None,
        "card_last_four": None,
        "is_test_mode": False,
    }  # fmt: skip


def transaction_list(store: Any, params: dict[str, str]) -> dict[str, Any]:
    """The ``result`` of ``order.transaction.list``: the transactions of ``order_ids``."""
    ids = [i.strip() for i in params["order_ids"].split(",") if i.strip()]
    fields = params.get("params", DEFAULT_PARAMS)
    found = [
        apply_params(t, fields, params.get("exclude"))
        for i in ids
        for t in store.transactions.get(i, [])
    ]
    return {"transactions_count": len(found), "transactions": found}
