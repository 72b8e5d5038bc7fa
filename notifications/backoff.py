"""Exponential back-off with jitter between delivery attempts."""

from __future__ import annotations

import random
from datetime import timedelta

__all__ = ["backoff"]


def backoff(
    attempts: int, base: timedelta, ceiling: timedelta, rng: random.Random | None = None
) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base·2^(attempts-1), capped, jittered.

    "Equal jitter": half the delay is kept, the other half is drawn uniformly, so dispatchers
    that failed together do not all come back at the same instant, and no wait is shorter than
    half its step.
    """
    step = min(ceiling.total_seconds(), base.total_seconds() * 2 ** max(attempts - 1, 0))
    draw = (rng or random).uniform(0, step / 2)
    return timedelta(seconds=step / 2 + draw)
