"""Settings, built once from an injected mapping (the environment, or a dict in tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from notifications import ConfigError, NotificationSettings
from workflow.db import DEFAULT_URL
from workflow.errors import InvalidInput

__all__ = ["DEFAULT_DB_POOL_SIZE", "Settings"]

_LEVELS = ("debug", "info", "warning", "error")


#: Connections kept open per process, and requests `thidua serve` runs at once.
DEFAULT_DB_POOL_SIZE = 10


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    #: None: "info" for services and scripts, "warning" when a person watches the terminal.
    log_level: str | None = None
    #: SMTP, webhook, retries and links of notifications (THIDUA_SMTP_*, THIDUA_WEBHOOK_*, …).
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    #: `thidua serve`: where it listens, and which background work it runs beside the API.
    host: str = "127.0.0.1"
    port: int = 8000
    run_scheduler: bool = True
    run_dispatcher: bool = True
    #: Connections kept open to the database per process (THIDUA_DB_POOL_SIZE), as many again
    #: on demand. `thidua serve` runs as many requests at once, each on a connection of its own;
    #: the next ones wait their turn instead of opening and closing connections.
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    #: Mark the session cookie Secure (behind HTTPS); off for http://127.0.0.1.
    secure_cookies: bool = False
    #: Server processes answering on one port (THIDUA_WORKERS); each also runs its share of the
    #: scheduler (one of them holds the lease) and of the dispatcher.
    workers: int = 1

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
        port = env.get("THIDUA_PORT", "8000").strip()
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidInput(f"THIDUA_PORT '{port}' is not a port number (1–65535)")
        pool = env.get("THIDUA_DB_POOL_SIZE", "").strip()
        if pool and (not pool.isdigit() or not 0 < int(pool) <= 1000):
            raise InvalidInput(
                f"THIDUA_DB_POOL_SIZE '{pool}' is not a number of connections (1–1000)"
            )
        workers = env.get("THIDUA_WORKERS", "1").strip()
        if not workers.isdigit() or not 0 < int(workers) <= 64:
            raise InvalidInput(f"THIDUA_WORKERS '{workers}' is not a number of processes (1–64)")
        return cls(
            database_url=url,
            workers=int(workers),
            db_pool_size=int(pool) if pool else DEFAULT_DB_POOL_SIZE,
            log_level=level.lower() if level else None,
            notifications=notifications,
            host=env.get("THIDUA_HOST", "").strip() or "127.0.0.1",
            port=int(port),
            run_scheduler=_flag(env, "THIDUA_SCHEDULER", True),
            run_dispatcher=_flag(env, "THIDUA_DISPATCHER", True),
            secure_cookies=_flag(env, "THIDUA_SECURE_COOKIES", False),
        )


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(f"{name} '{env[name]}' is not one of 1, 0, true, false, yes, no, on, off")
