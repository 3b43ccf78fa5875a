"""A thin synchronous facade over the async API, for host products that are not async.

``with blocking(lambda: make_source()) as s: page = next(s.changes(...))`` -- every
coroutine method becomes a plain call and every async iterator a plain
iterator, run on one event loop in a background thread (anyio's blocking
portal), so connection pools and locks keep working as they do in async code.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from typing import Any, Generic, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

T = TypeVar("T")


class Blocking(Generic[T]):
    """Proxy that runs ``T``'s async methods to completion on a private event loop."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._stack = ExitStack()
        self._portal: BlockingPortal = self._stack.enter_context(start_blocking_portal())
        # Build the wrapped object on the portal's loop so its clients bind to it.
        self._target: Any = self._portal.call(_construct, factory)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self._portal.call(lambda: attr(*a, **kw))
        if inspect.isasyncgenfunction(attr) or _returns_async_iter(attr):
            return lambda *a, **kw: self._iterate(attr(*a, **kw))
        return attr

    def _iterate(self, agen: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._portal.call(agen.__anext__)
            except StopAsyncIteration:
                return

    def close(self) -> None:
        aclose = getattr(self._target, "aclose", None)
        try:
            if aclose is not None and inspect.iscoroutinefunction(aclose):
                self._portal.call(aclose)
        finally:
            self._stack.close()

    def __enter__(self) -> Blocking[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _construct(factory: Callable[[], T]) -> T:
    return factory()


def _returns_async_iter(attr: Any) -> bool:
    hints = getattr(attr, "__annotations__", {})
    ret = str(hints.get("return", ""))
    return "AsyncIterator" in ret or "AsyncGenerator" in ret


def blocking(factory: Callable[[], T]) -> AbstractContextManager[Blocking[T]]:
    """Wrap an async connector or engine for synchronous use.

    ``factory`` builds the object (``lambda: registry.get("shopify").build(ctx)``)
    on the facade's event loop.
    """
    return Blocking(factory)
