"""Notification settings, read from an injected mapping (the environment, or a dict in tests).

| key | default | meaning |
| --- | --- | --- |
| THIDUA_SMTP_HOST | localhost | SMTP server |
| THIDUA_SMTP_PORT | 25 (587 starttls, 465 tls) | its port |
| THIDUA_SMTP_SECURITY | none | none, starttls or tls (implicit TLS) |
| THIDUA_SMTP_USER / THIDUA_SMTP_PASSWORD | — | login, when the server needs one |
| THIDUA_SMTP_FROM | thidua@localhost | the sender address |
| THIDUA_SMTP_TIMEOUT | 10 | seconds |
| THIDUA_WEBHOOK_SECRET | — | HMAC-SHA256 key of X-Thidua-Signature (needed for webhooks) |
| THIDUA_WEBHOOK_TIMEOUT | 10 | seconds |
| THIDUA_NOTIFY_MAX_ATTEMPTS | 8 | attempts before a message is parked |
| THIDUA_NOTIFY_BACKOFF | 30 | seconds before the first retry (doubles, jittered) |
| THIDUA_NOTIFY_BACKOFF_MAX | 21600 | longest wait between attempts, seconds |
| THIDUA_DISPATCH_BATCH | 50 | messages claimed at once |
| THIDUA_DISPATCH_LEASE | 300 | seconds a claim holds before another dispatcher may take it |
| THIDUA_DISPATCH_POLL | 5 | seconds between polls when nothing is due |
| THIDUA_BASE_URL | http://127.0.0.1:8000 | base of the links in messages |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from notifications.errors import ConfigError

__all__ = ["SECURITY", "NotificationSettings"]

SECURITY = ("none", "starttls", "tls")
_PORTS = {"none": 25, "starttls": 587, "tls": 465}


def _number(env: Mapping[str, str], key: str, default: float, *, whole: bool = False) -> float:
    text = env.get(key, "").strip()
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError as exc:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(key, f"{key} '{text}' is not {kind}") from exc
    if value <= 0:
        raise ConfigError(key, f"{key} '{text}' must be greater than 0")
    return value


@dataclass(frozen=True)
class NotificationSettings:
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "thidua@localhost"
    smtp_timeout: float = 10.0
    webhook_secret: str | None = None
    webhook_timeout: float = 10.0
    max_attempts: int = 8
    backoff: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(hours=6)
    batch: int = 50
    lease: timedelta = timedelta(minutes=5)
    poll: float = 5.0
    base_url: str = "http://127.0.0.1:8000"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NotificationSettings:
        security = env.get("THIDUA_SMTP_SECURITY", "").strip().lower() or "none"
        if security not in SECURITY:
            raise ConfigError(
                "THIDUA_SMTP_SECURITY",
                f"THIDUA_SMTP_SECURITY '{security}' is not one of {', '.join(SECURITY)}",
            )
        port = int(_number(env, "THIDUA_SMTP_PORT", _PORTS[security], whole=True))
        if port > 65535:
            raise ConfigError("THIDUA_SMTP_PORT", f"THIDUA_SMTP_PORT '{port}' is not a port")
        sender = env.get("THIDUA_SMTP_FROM", "").strip() or cls.smtp_from
        if "@" not in sender:
            raise ConfigError(
                "THIDUA_SMTP_FROM", f"THIDUA_SMTP_FROM '{sender}' is not an e-mail address"
            )
        user = env.get("THIDUA_SMTP_USER", "").strip() or None
        password = env.get("THIDUA_SMTP_PASSWORD") or None
        if user is not None and password is None:
            raise ConfigError(
                "THIDUA_SMTP_PASSWORD", "THIDUA_SMTP_USER is set but THIDUA_SMTP_PASSWORD is not"
            )
        base_url = env.get("THIDUA_BASE_URL", "").strip().rstrip("/") or cls.base_url
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ConfigError(
                "THIDUA_BASE_URL", f"THIDUA_BASE_URL '{base_url}' is not an http(s) URL"
            )
        backoff = _number(env, "THIDUA_NOTIFY_BACKOFF", 30)
        return cls(
            smtp_host=env.get("THIDUA_SMTP_HOST", "").strip() or cls.smtp_host,
            smtp_port=port,
            smtp_security=security,
            smtp_user=user,
            smtp_password=password,
            smtp_from=sender,
            smtp_timeout=_number(env, "THIDUA_SMTP_TIMEOUT", 10),
            webhook_secret=env.get("THIDUA_WEBHOOK_SECRET") or None,
            webhook_timeout=_number(env, "THIDUA_WEBHOOK_TIMEOUT", 10),
            max_attempts=int(_number(env, "THIDUA_NOTIFY_MAX_ATTEMPTS", 8, whole=True)),
            backoff=timedelta(seconds=backoff),
            backoff_max=timedelta(
                seconds=max(backoff, _number(env, "THIDUA_NOTIFY_BACKOFF_MAX", 21600))
            ),
            batch=int(_number(env, "THIDUA_DISPATCH_BATCH", 50, whole=True)),
            lease=timedelta(seconds=_number(env, "THIDUA_DISPATCH_LEASE", 300)),
            poll=_number(env, "THIDUA_DISPATCH_POLL", 5),
            base_url=base_url,
        )
