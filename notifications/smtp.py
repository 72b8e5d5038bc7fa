"""The e-mail channel: SMTP with STARTTLS or implicit TLS, UTF-8 bodies, encoded subjects.

One connection is kept open across messages and reopened after a failure. The idempotency key
goes along as `X-Thidua-Idempotency-Key` and as the Message-ID, so a re-delivery of the same
message is recognisable by the receiving side.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.charset import BASE64, QP, Charset
from email.header import Header
from email.message import Message as EmailMessage
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr
from typing import cast

from notifications.config import NotificationSettings
from notifications.errors import DeliveryError
from notifications.messages import Message, Rendered

__all__ = ["IDEMPOTENCY_HEADER", "SmtpChannel", "build_email", "message_id"]

IDEMPOTENCY_HEADER = "X-Thidua-Idempotency-Key"
#: UTF-8 bodies in quoted-printable; headers as RFC 2047 encoded words.
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = BASE64
_UTF8.body_encoding = QP
#: On the wire: CRLF line ends.
_WIRE = compat32.clone(linesep="\r\n")
_SENDER_NAME = "Thi đua – Khen thưởng"


def message_id(key: str, sender: str) -> str:
    """A Message-ID derived from the idempotency key: the same on every re-delivery."""
    domain = sender.rpartition("@")[2] or "thidua.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _named(name: str | None, address: str) -> str:
    return formataddr((str(Header(name, _UTF8)), address)) if name else address


def build_email(message: Message, rendered: Rendered, sender: str) -> EmailMessage:
    """The e-mail: subject and names RFC 2047-encoded, body UTF-8 quoted-printable.

    Built with `email.mime` (the compat32 API) rather than `EmailMessage`: its `Header` keeps the
    spaces inside the encoded words, where the newer folder drops the space between two encoded
    words at a fold ("xét duyệt" arrived as "xétduyệt"), and it is several times faster.
    """
    if not message.address:
        raise DeliveryError(
            f"message {message.id} ({message.key}) has no e-mail address for recipient "
            f"{message.recipient_name or message.recipient_id}",
            permanent=True,
        )
    mail = MIMENonMultipart("text", "plain")
    mail.set_payload(rendered.body, _UTF8)
    # A Header is a valid header value (typeshed says str only).
    mail["Subject"] = cast(str, Header(rendered.subject, _UTF8))
    mail["From"] = _named(_SENDER_NAME, sender)
    mail["To"] = _named(message.recipient_name, message.address)
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message.key, sender)
    mail[IDEMPOTENCY_HEADER] = message.key
    mail["X-Thidua-Event"] = message.event
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
                self.settings.smtp_from, [message.address or ""], mail.as_bytes(policy=_WIRE)
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
