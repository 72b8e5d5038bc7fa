"""Ranking with ties shown as ties: standard competition ranking ("1224").

Equal totals share a rank, and the next total's rank counts everyone above it: totals 90, 85,
85, 70 rank 1, 2, 2, 4. Pure: no storage, no clock.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

__all__ = ["competition_ranks"]

K = TypeVar("K", bound=Hashable)


def competition_ranks(totals: Sequence[tuple[K, int]]) -> list[tuple[int, K, int]]:
    """(rank, key, total) for each (key, total), highest total first; ties keep the key order."""
    ordered = sorted(enumerate(totals), key=lambda item: (-item[1][1], item[0]))
    ranked: list[tuple[int, K, int]] = []
    for position, (_, (key, total)) in enumerate(ordered, start=1):
        rank = ranked[-1][0] if ranked and ranked[-1][2] == total else position
        ranked.append((rank, key, total))
    return ranked
