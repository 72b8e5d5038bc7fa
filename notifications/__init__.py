"""Notifications: the outbox's messages, their templates, channels and the dispatcher.

This package knows nothing of nominations' storage: `workflow` gives it a `Store` and composes
a `Dispatcher` from settings.
"""

from notifications.backoff import backoff
from notifications.channels import LogChannel, build_channels
from notifications.config import NotificationSettings
from notifications.dispatcher import Dispatcher, Tally
from notifications.errors import ConfigError, DeliveryError, NotificationError
from notifications.messages import CHANNELS, Channel, Message, Outcome, Rendered, Store
from notifications.render import Renderer, vn_time
from notifications.smtp import IDEMPOTENCY_HEADER, SmtpChannel, build_email
from notifications.webhook import SIGNATURE_HEADER, WebhookChannel, sign

__all__ = [
    "CHANNELS",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "Channel",
    "ConfigError",
    "DeliveryError",
    "Dispatcher",
    "LogChannel",
    "Message",
    "NotificationError",
    "NotificationSettings",
    "Outcome",
    "Rendered",
    "Renderer",
    "SmtpChannel",
    "Store",
    "Tally",
    "WebhookChannel",
    "backoff",
    "build_channels",
    "build_email",
    "sign",
    "vn_time",
]
