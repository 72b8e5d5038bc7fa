"""The log channel, and the set of channels a dispatcher is built with."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from notifications.config import NotificationSettings
from notifications.messages import Channel, Message, Rendered
from notifications.smtp import SmtpChannel
from notifications.webhook import WebhookChannel

__all__ = ["LogChannel", "build_channels"]


class LogChannel:
    """Writes the message to the structured log: always available, never fails."""

    name = "log"

    def __init__(self) -> None:
        self._log = structlog.get_logger("thidua.notifications")

    def send(self, message: Message, rendered: Rendered) -> None:
        self._log.info(
            "notification",
            key=message.key,
            notification_event=message.event,
            recipient=message.recipient_name,
            recipient_id=message.recipient_id,
            subject=rendered.subject,
            body=rendered.body,
        )

    def close(self) -> None:
        return None


def build_channels(settings: NotificationSettings) -> Mapping[str, Channel]:
    """One of each channel, built from settings; nothing connects until the first message."""
    return {
        "email": SmtpChannel(settings),
        "webhook": WebhookChannel(settings),
        "log": LogChannel(),
    }
