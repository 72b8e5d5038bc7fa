"""Errors of the service, and the one table that maps them to CLI exit codes and HTTP statuses.

    WorkflowError
    ├── InvalidInput          bad input: malformed date, empty or oversized text, unknown choice
    ├── NotFound              no such nomination, person, unit or campaign
    ├── Unauthenticated       no valid API token, password or browser session
    │   └── TooManyAttempts   too many refused sign-ins of one name from one client
    ├── Refused               a rule refused the command; `rule` names it
    │   ├── Forbidden         role, unit scope, separation of duties
    │   ├── DeadlinePassed    the clock says the campaign's deadline has passed
    │   └── QuotaExceeded     an award decision would exceed its round's quota (rule "quota")
    └── Conflict              the nomination is not in a state the command needs, or changed
        ├── InvalidTransition while the command ran (the loser of a race)
        └── StaleLease        a scheduler whose lease another process has taken over

Messages are sentences with the values in them.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "EXIT_CODES",
    "HTTP_STATUS",
    "Conflict",
    "DeadlinePassed",
    "Forbidden",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "QuotaExceeded",
    "Refused",
    "StaleLease",
    "TooManyAttempts",
    "Unauthenticated",
    "WorkflowError",
    "exit_code",
    "http_status",
]


class WorkflowError(Exception):
    """Base of the service's errors; `code` is a stable name for scripts and the API."""

    code = "error"


class InvalidInput(WorkflowError):
    code = "invalid_input"


class NotFound(WorkflowError):
    code = "not_found"


class Unauthenticated(WorkflowError):
    code = "unauthenticated"


class TooManyAttempts(Unauthenticated):
    """Sign-in is throttled for this name from this client until `retry_at` (UTC)."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_at: datetime) -> None:
        self.retry_at = retry_at
        super().__init__(message)


class Refused(WorkflowError):
    code = "refused"

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


class Forbidden(Refused):
    code = "forbidden"


class DeadlinePassed(Refused):
    code = "deadline_passed"


class QuotaExceeded(Refused):
    """The batch would award more of a nominee kind than the round's quota leaves."""

    code = "quota_exceeded"

    def __init__(self, message: str) -> None:
        super().__init__("quota", message)


class Conflict(WorkflowError):
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class StaleLease(Conflict):
    code = "stale_lease"


EXIT_CODES: dict[type[WorkflowError], int] = {
    InvalidInput: 2,
    Refused: 3,
    NotFound: 4,
    Conflict: 5,
    Unauthenticated: 7,
}

HTTP_STATUS: dict[type[WorkflowError], int] = {
    InvalidInput: 422,
    Refused: 403,
    NotFound: 404,
    Conflict: 409,
    Unauthenticated: 401,
    TooManyAttempts: 429,
}


def http_status(error: WorkflowError) -> int:
    """The HTTP status of an error: the entry of its nearest listed base class."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def exit_code(error: WorkflowError) -> int:
    """The CLI exit code of an error: the entry of its nearest listed base class."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
