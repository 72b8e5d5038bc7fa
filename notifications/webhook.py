"""The webhook channel: a JSON POST, signed with HMAC-SHA256 over the exact body bytes.

Headers: `X-Thidua-Signature: sha256=<hex>`, `X-Thidua-Idempotency-Key: <key>` (the same on
every re-delivery), `X-Thidua-Event: <event>`. Any 2xx is delivered; 4xx but 408/429 is
permanent (the message is parked); anything else, a timeout or a refused connection is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from notifications.config import NotificationSettings
from notifications.errors import DeliveryError
from notifications.messages import Message, Rendered

if TYPE_CHECKING:
    import httpx

__all__ = ["SIGNATURE_HEADER", "WebhookChannel", "body_of", "sign"]

SIGNATURE_HEADER = "X-Thidua-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: "sha256=" and the hex HMAC-SHA256 of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(message: Message, rendered: Rendered) -> bytes:
    document: dict[str, Any] = {
        "key": message.key,
        "event": message.event,
        "recipient": {"id": message.recipient_id, "name": message.recipient_name},
        "subject": rendered.subject,
        "text": rendered.body,
        "payload": dict(message.payload),
        "created_at": message.created_at.isoformat(),
        "attempt": message.attempts,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self._client: httpx.Client | None = None

    def send(self, message: Message, rendered: Rendered) -> None:
        secret = self.settings.webhook_secret
        if not secret:
            raise DeliveryError("THIDUA_WEBHOOK_SECRET is not set: webhooks are sent signed only")
        if not message.address or not message.address.startswith(("http://", "https://")):
            raise DeliveryError(
                f"message {message.id} has no webhook URL (got {message.address!r})",
                permanent=True,
            )
        body = body_of(message, rendered)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(secret, body),
            "X-Thidua-Idempotency-Key": message.key,
            "X-Thidua-Event": message.event,
        }
        import httpx  # imported on first use: the CLI starts faster without it

        if self._client is None:
            self._client = httpx.Client(timeout=self.settings.webhook_timeout)
        try:
            response = self._client.post(message.address, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.close()
            raise DeliveryError(
                f"webhook {message.address} failed: {exc.__class__.__name__}: {exc}"
            ) from exc
        if response.is_success:
            return
        code = response.status_code
        raise DeliveryError(
            f"webhook {message.address} answered {code} {response.reason_phrase}",
            permanent=400 <= code < 500 and code not in (408, 429),
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
