"""A platform's words for a state, declared as a table: what each means canonically.

Every source turns words the platform writes -- an order status (``processing``,
``wc-on-hold``, ``Shipped``), a financial status, a payment transaction's status -- into
a canonical value.  The rules are the same everywhere, so they live here once:

* the connection's own table (a ``status_map``-style setting) wins: a merchant's plugin or
  cart may use a word in its own sense, and only the merchant can say what it means;
* then the connector's declared table, matched after ``normalise`` (a table written once in
  plain words, ``"on hold"``, then matches every spelling of them);
* a word neither table names is never guessed: it is ``unknown`` (``OrderStatus.UNKNOWN``,
  which the engine does not post) or, where a guess could book money that was never taken,
  the ``refuse`` callable raises, naming the word.

A connector declares ``Vocabulary({...})`` next to the facts behind it; the engine never
sees platform words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")


def as_is(word: str) -> str:
    """The default normaliser: the word exactly as the platform wrote it."""
    return word


def plain_words(word: str) -> str:
    """``'wc-on-hold'``, ``'On_Hold'``, ``'PartiallyShipped'`` -> ``'on hold'``,
    ``'partially shipped'``: camel case split, dashes/underscores/runs of spaces made one
    space, lower case, and WooCommerce's ``wc-`` prefix (carts behind aggregators pass it on)
    dropped."""
    word = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", word.strip())
    word = re.sub(r"[-_\s]+", " ", word).lower()
    return word.removeprefix("wc ")


@dataclass(frozen=True)
class Vocabulary(Generic[T]):
    """``words``: the platform's word (as ``normalise`` leaves it) -> canonical value."""

    words: Mapping[str, T]
    normalise: Callable[[str], str] = field(default=as_is)

    def overridden(self, overrides: Mapping[str, T] | None, *spellings: str | None) -> T | None:
        """What the connection's own table says of the first spelling it names (exact
        match, as the merchant typed it), or None."""
        for word in spellings:
            if word is not None and overrides and word in overrides:
                return overrides[word]
        return None

    def known(self, *spellings: str | None) -> T | None:
        """What the declared table says of the first spelling it knows, or None."""
        for word in spellings:
            if word is not None:
                found = self.words.get(self.normalise(word))
                if found is not None:
                    return found
        return None

    def meaning(
        self,
        *spellings: str | None,
        overrides: Mapping[str, T] | None = None,
        unknown: T,
    ) -> T:
        """The connection's table first, then the declared one, else ``unknown``.
        ``spellings`` are tried in order (an id, then a name, ...); None is skipped."""
        found = self.overridden(overrides, *spellings)
        if found is None:
            found = self.known(*spellings)
        return unknown if found is None else found

    def required(
        self,
        word: str | None,
        *,
        overrides: Mapping[str, T] | None = None,
        refuse: Callable[[str | None], NoReturn],
    ) -> T:
        """Like ``meaning``, for a word that must be understood: ``refuse(word)`` raises
        (naming the word and the setting that would name it) instead of a default."""
        found = self.overridden(overrides, word)
        if found is None:
            found = self.known(word)
        if found is None:
            refuse(word)
        return found


__all__ = ["Vocabulary", "as_is", "plain_words"]
