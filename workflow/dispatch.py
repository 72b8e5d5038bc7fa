"""Composition of the notification dispatcher: store, channels, templates, from settings.

`build_dispatcher` builds, nothing more: the caller runs it (`thidua dispatch`, or the server in
its own process). The dispatcher's clock is the service's, so tests drive retries exactly.
"""

from __future__ import annotations

from sqlalchemy import Engine

from notifications import Dispatcher, NotificationSettings, Renderer, build_channels
from workflow.clock import Clock, SystemClock
from workflow.outbox_store import SqlStore

__all__ = ["build_dispatcher"]


def build_dispatcher(
    engine: Engine,
    settings: NotificationSettings,
    clock: Clock | None = None,
    worker: str | None = None,
) -> Dispatcher:
    chosen = clock or SystemClock()
    return Dispatcher(
        SqlStore(engine),
        build_channels(settings),
        Renderer(settings.base_url),
        now=chosen.now,
        max_attempts=settings.max_attempts,
        base_delay=settings.backoff,
        max_delay=settings.backoff_max,
        batch=settings.batch,
        lease=settings.lease,
        worker=worker,
    )
