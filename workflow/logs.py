"""structlog, configured once at the edge: JSON lines on stderr, context merged first."""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging"]


def configure_logging(level: str | None = None) -> None:
    """JSON logs on stderr; bound context (command id, actor, nomination) in every line.

    With no level given, a terminal gets warnings only and a service or script gets info.
    """
    terminal = sys.stderr.isatty()
    chosen = level or ("warning" if terminal else "info")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(chosen.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
