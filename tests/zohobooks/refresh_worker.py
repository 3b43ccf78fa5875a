"""A separate process for the cross-process refresh test: N concurrent calls through a
target whose credentials and locks are the store's (``StoreCredentials``/``StoreLocks``).

``python -m tests.zohobooks.refresh_worker URL DB_URL CONNECTION_ID CALLS``; prints the
number of refreshes this process made.
"""

from __future__ import annotations

import sys

import anyio

from ledgerbridge.plan import LookupKind
from ledgerbridge.store import Store
from ledgerbridge.store.adapters import StoreCredentials, StoreLocks

from .helpers import make_target


async def main(url: str, db_url: str, connection_id: str, calls: int) -> int:
    store = Store(db_url)
    target = make_target(
        url,
        None,
        refresh_token="",
        connection_id=connection_id,
        credentials=StoreCredentials(store, connection_id),
        locks=StoreLocks(store),
    )
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(calls):
                tg.start_soon(target.lookups, LookupKind.TAXES)
        return target.tokens.refreshes
    finally:
        await target.aclose()
        store.close()


if __name__ == "__main__":
    url, db_url, connection_id, calls = sys.argv[1:5]
    print(anyio.run(main, url, db_url, connection_id, int(calls)))
