"""Settings, built once from an injected mapping (the environment, or a dict in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from notifications import ConfigError, NotificationSettings
from workflow.db import DEFAULT_URL
from workflow.errors import InvalidInput

__all__ = ["Settings"]

_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    #: None: "info" for services and scripts, "warning" when a person watches the terminal.
    log_level: str | None = None
    #: SMTP, webhook, retries and links of notifications (THIDUA_SMTP_*, THIDUA_WEBHOOK_*, …).
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        level = env.get("THIDUA_LOG_LEVEL")
        if level is not None and level.lower() not in _LEVELS:
            raise InvalidInput(f"THIDUA_LOG_LEVEL '{level}' is not one of {', '.join(_LEVELS)}")
        url = env.get("THIDUA_DATABASE_URL", "").strip() or DEFAULT_URL
        try:
            notifications = NotificationSettings.from_env(env)
        except ConfigError as exc:
            raise InvalidInput(str(exc)) from exc
        return cls(
            database_url=url,
            log_level=level.lower() if level else None,
            notifications=notifications,
        )
