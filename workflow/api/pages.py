"""Pagination: a page of at most `limit` items and the offset of the next one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["page", "page_of"]


def page(fetch: Callable[[int, int], Sequence[Any]], limit: int, offset: int) -> dict[str, Any]:
    """Ask `fetch(limit + 1, offset)`: the extra item tells whether a next page exists."""
    rows = list(fetch(limit + 1, offset))
    items = [row.to_dict() if hasattr(row, "to_dict") else row for row in rows[:limit]]
    more = len(rows) > limit
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


def page_of(rows: Sequence[Any], limit: int, offset: int) -> dict[str, Any]:
    """A page of a list the service already gave whole."""
    return page(lambda size, skip: rows[skip : skip + size], limit, offset)
