"""The e-mail channel: SMTP with STARTTLS or implicit TLS, UTF-8 bodies, encoded subjects.

One connection is kept open across messages and reopened after a failure. The idempotency key
goes along as `X-Thidua-Idempotency-Key` and as the Message-ID, so a re-delivery of the same
message is recognisable by the receiving side.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from notifications.config import NotificationSettings
from notifications.errors import DeliveryError
from notifications.messages import Message, Rendered

__all__ = ["IDEMPOTENCY_HEADER", "WIRE", "SmtpChannel", "build_email", "message_id"]

IDEMPOTENCY_HEADER = "X-Thidua-Idempotency-Key"
#: How an e-mail goes on the wire. Headers are not folded at 78 characters: the standard library
#: drops the space between two RFC 2047 encoded words where it folds ("xét duyệt" arrives as
#: "xétduyệt"); 998 is RFC 5322's hard limit. The body is quoted-printable, wrapped at 76.
WIRE = SMTP.clone(max_line_length=998)


def message_id(key: str, sender: str) -> str:
    """A Message-ID derived from the idempotency key: the same on every re-delivery."""
    domain = sender.rpartition("@")[2] or "thidua.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def build_email(message: Message, rendered: Rendered, sender: str) -> EmailMessage:
    """The e-mail: subject RFC 2047-encoded when not ASCII, body UTF-8 (quoted-printable)."""
    if not message.address:
        raise DeliveryError(
            f"message {message.id} ({message.key}) has no e-mail address for recipient "
            f"{message.recipient_name or message.recipient_id}",
            permanent=True,
        )
    mail = EmailMessage(policy=SMTP)
    mail["Subject"] = rendered.subject
    mail["From"] = Address("Thi đua – Khen thưởng", addr_spec=sender)
    mail["To"] = (
        Address(message.recipient_name, addr_spec=message.address)
        if message.recipient_name
        else message.address
    )
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message.key, sender)
    mail[IDEMPOTENCY_HEADER] = message.key
    mail["X-Thidua-Event"] = message.event
    mail.set_content(rendered.body, charset="utf-8", cte="quoted-printable")
    return mail


class SmtpChannel:
    name = "email"

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if s.smtp_security == "tls":
            connection = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            connection = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_security == "starttls":
                connection.starttls(context=context)
        if s.smtp_user and s.smtp_password:
            connection.login(s.smtp_user, s.smtp_password)
        return connection

    def send(self, message: Message, rendered: Rendered) -> None:
        mail = build_email(message, rendered, self.settings.smtp_from)
        try:
            if self._connection is None:
                self._connection = self._connect()
            self._connection.sendmail(
                self.settings.smtp_from, [message.address or ""], mail.as_bytes(policy=WIRE)
            )
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            permanent = all(code >= 500 for code, _ in exc.recipients.values())
            raise DeliveryError(
                f"the SMTP server refused {message.address}: {exc.recipients}", permanent=permanent
            ) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise DeliveryError(
                f"the SMTP server answered {exc.smtp_code}: {exc.smtp_error!r}",
                permanent=exc.smtp_code >= 500 and exc.smtp_code != 554,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(
                f"SMTP {self.settings.smtp_host}:{self.settings.smtp_port} failed: "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()
