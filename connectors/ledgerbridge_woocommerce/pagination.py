"""Page-number pagination as WooCommerce reports it (``X-WP-TotalPages``, ``Link``).

A small value object per response; the reading strategy (which pages to ask
for) lives with the reader (``source.py``), the "is there more?" rule here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

MAX_PER_PAGE = 100  # core: get_collection_params() 'maximum' => 100


@dataclass(frozen=True)
class Page:
    """One page of a collection and what the headers say about the rest."""

    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int | None
    total_pages: int | None
    has_next_link: bool
    had_link_header: bool = False

    @property
    def has_more(self) -> bool:
        """Stop at ``page >= X-WP-TotalPages`` or when there is no ``rel="next"``.

        Without either header (some caches strip them) a short page is the last one.
        """
        if self.total_pages is not None:
            return self.page < self.total_pages and (self.has_next_link or not self.had_link_header)
        if self.had_link_header:
            return self.has_next_link
        return len(self.items) >= self.per_page

    @classmethod
    def from_response(
        cls, items: list[dict[str, Any]], response: httpx.Response, page: int, per_page: int
    ) -> Page:
        return cls(
            items=items,
            page=page,
            per_page=per_page,
            total=_int_header(response, "x-wp-total"),
            total_pages=_int_header(response, "x-wp-totalpages"),
            has_next_link="next" in response.links,
            had_link_header="link" in response.headers,
        )


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    if value is None or not value.strip().isdigit():
        return None
    return int(value)
