"""The errors of the notifications package.

NotificationError
├── ConfigError      a setting is missing or bad (names the key)
└── DeliveryError    a channel could not deliver one message
                     (permanent=True: retrying cannot help, the message is parked at once)
"""

from __future__ import annotations

__all__ = ["ConfigError", "DeliveryError", "NotificationError"]


class NotificationError(Exception):
    """Base of every error raised by `notifications`."""


class ConfigError(NotificationError):
    """A notification setting is missing or bad; the message names the key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class DeliveryError(NotificationError):
    """A channel failed to deliver a message; `permanent` when a retry cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
