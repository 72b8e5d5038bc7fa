"""The dispatcher: claims due messages, delivers them, retries with back-off, parks the hopeless.

Delivery is at least once: a message is settled (delivered, retried or parked) after its attempt,
in one write per batch. A dispatcher that dies mid-batch leaves its claimed messages leased; when
the lease runs out another dispatcher claims them again and delivers them with the same
idempotency key, so the receiver can drop the duplicate. Several dispatchers share one store:
the store's claim hands each message to one of them at a time.

Built from settings by the composition root, started by whoever owns the process (the
`thidua dispatch` command, or later the server): nothing runs at import.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from notifications.backoff import backoff
from notifications.errors import DeliveryError
from notifications.messages import Channel, Message, Outcome, Store
from notifications.render import Renderer

__all__ = ["Dispatcher", "Tally"]

log = structlog.get_logger("thidua.dispatcher")


@dataclass
class Tally:
    """What one or more batches did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    parked: int = 0
    released: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.retried += other.retried
        self.parked += other.parked
        self.released += other.released
        for name, count in other.by_channel.items():
            self.by_channel[name] = self.by_channel.get(name, 0) + count


class Dispatcher:
    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        renderer: Renderer,
        *,
        now: Callable[[], datetime],
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(seconds=30),
        max_delay: timedelta = timedelta(hours=6),
        batch: int = 50,
        lease: timedelta = timedelta(minutes=5),
        worker: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.renderer = renderer
        self.now = now
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.batch = batch
        self.lease = lease
        self.worker = worker or uuid.uuid4().hex[:16]
        self.rng = rng or random.Random()

    def attempt(self, message: Message) -> Outcome:
        """Deliver one claimed message and say how it ended; never raises a delivery error."""
        try:
            channel = self.channels.get(message.channel)
            if channel is None:
                raise DeliveryError(f"no channel named '{message.channel}'", permanent=True)
            channel.send(message, self.renderer.render_message(message))
        except DeliveryError as exc:
            error = str(exc)
            if exc.permanent or message.attempts >= self.max_attempts:
                log.warning("notification.parked", key=message.key, error=error)
                return Outcome(message, delivered=False, error=error)
            wait = backoff(message.attempts, self.base_delay, self.max_delay, self.rng)
            log.info("notification.retry", key=message.key, error=error, wait=str(wait))
            return Outcome(message, delivered=False, retry_at=self.now() + wait, error=error)
        return Outcome(message, delivered=True)

    def run_once(self) -> Tally:
        """Claim one batch, deliver it, settle it.

        Messages not yet attempted when four fifths of the lease have gone are given back
        unattempted, so no other dispatcher can claim a message this one is still sending.
        """
        claimed_at = self.now()
        messages = self.store.claim(claimed_at, self.batch, self.lease, self.worker)
        tally = Tally(claimed=len(messages))
        last_start = claimed_at + self.lease * 0.8
        outcomes: list[Outcome] = []
        for message in messages:
            now = self.now()
            if now >= last_start:
                outcomes.append(Outcome(message, delivered=False, retry_at=now, released=True))
            else:
                outcomes.append(self.attempt(message))
        if outcomes:
            self.store.settle(outcomes, self.now())
        for outcome in outcomes:
            if outcome.delivered:
                tally.delivered += 1
                name = outcome.message.channel
                tally.by_channel[name] = tally.by_channel.get(name, 0) + 1
            elif outcome.parked:
                tally.parked += 1
            elif outcome.released:
                tally.released += 1
            else:
                tally.retried += 1
        return tally

    def drain(self, stop: threading.Event | None = None) -> Tally:
        """Batches until nothing is due now (or `stop` is set); then channels' connections close."""
        total = Tally()
        try:
            while stop is None or not stop.is_set():
                tally = self.run_once()
                total.add(tally)
                if tally.claimed == 0:
                    break
        finally:
            self.close()
        return total

    def run(self, stop: threading.Event, poll: float = 5.0) -> Tally:
        """Deliver until `stop` is set, polling every `poll` seconds when nothing is due."""
        total = Tally()
        log.info("dispatcher.started", worker=self.worker)
        try:
            while not stop.is_set():
                tally = self.drain(stop)
                total.add(tally)
                if tally.claimed:
                    log.info("dispatcher.batch", delivered=tally.delivered, parked=tally.parked)
                stop.wait(poll)
        finally:
            self.close()
            log.info("dispatcher.stopped", worker=self.worker, delivered=total.delivered)
        return total

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()
