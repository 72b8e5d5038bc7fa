"""The outbox's domain types and the two ports the dispatcher works through.

A `Message` is one notification to one recipient over one channel, as claimed from the outbox
by a dispatcher. The `Store` port claims due messages under a lease and settles them; a `Channel`
delivers one rendered message. The SQL store lives in `workflow`; channels live beside this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

__all__ = ["CHANNELS", "Channel", "Message", "Outcome", "Rendered", "Store"]

#: The channels a person may choose.
CHANNELS = ("email", "webhook", "log")


@dataclass(frozen=True)
class Message:
    """A claimed message: what to say (template, payload), to whom, over which channel."""

    id: int
    #: The idempotency key: the same on every delivery attempt of this message.
    key: str
    event: str
    template: str
    channel: str
    #: E-mail address or webhook URL; None for the log, or when the recipient has none.
    address: str | None
    recipient_id: int | None
    recipient_name: str | None
    payload: Mapping[str, Any]
    #: Attempts so far, this one included.
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class Rendered:
    """A message's text, from its template: a subject line and a plain-text body."""

    subject: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: delivered, to retry at `retry_at`, or parked (neither).

    `released`: not attempted at all (the dispatcher's lease was running out); the store gives
    the message back, due at `retry_at`, without counting the attempt.
    """

    message: Message
    delivered: bool
    retry_at: datetime | None = None
    error: str | None = None
    released: bool = False

    @property
    def parked(self) -> bool:
        return not self.delivered and self.retry_at is None


class Store(Protocol):
    """Where the dispatcher finds messages and records how their attempts ended."""

    def claim(self, now: datetime, limit: int, lease: timedelta, worker: str) -> Sequence[Message]:
        """Up to `limit` due messages, leased to `worker` until `now + lease`, attempts counted."""
        ...

    def settle(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Record delivered, retried and parked messages, releasing their lease."""
        ...


class Channel(Protocol):
    """Delivers one rendered message, or raises `DeliveryError`."""

    name: str

    def send(self, message: Message, rendered: Rendered) -> None: ...

    def close(self) -> None: ...
