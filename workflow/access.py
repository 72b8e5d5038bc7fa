"""Who is asking: API bearer tokens, sign-in passwords and browser sessions.

Only digests are stored: a token's or a session cookie's SHA-256 (they are long random secrets,
so a fast hash is enough), a password's Argon2 hash (pwdlib). A lost token is revoked and a new
one made; nothing can be read back.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.orm import Session

from workflow.errors import InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from workflow.tables import ApiToken, Person, SignInFailure, WebSession
from workflow.text import clean_code, clean_text
from workflow.timeutil import format_local

__all__ = [
    "SESSION_HOURS",
    "SignedIn",
    "authenticate_token",
    "check_throttle",
    "create_token",
    "dummy_hash",
    "end_session",
    "record_failure",
    "revoke_token",
    "session_of",
    "set_password",
    "sign_in",
    "tokens_of",
]

TOKEN_PREFIX = "thd_"
#: A browser session lasts this long after sign-in.
SESSION_HOURS = 12
MIN_PASSWORD = 8
MAX_PASSWORD = 256
#: After this many refused sign-ins of one name from one client within THROTTLE_MINUTES, that
#: name is refused from that client (even with the right password) until the oldest of them is
#: THROTTLE_MINUTES old. Other clients are not held back, so nobody can lock a person out.
THROTTLE_ATTEMPTS = 5
THROTTLE_MINUTES = 15

_hasher = PasswordHash.recommended()


@functools.cache
def dummy_hash() -> str:
    """Checked against when the username is unknown, so both answers take the same time.
    Made on first use (an Argon2 hash takes a tenth of a second, which no other command
    should pay); the server makes it before it answers (`workflow.server.create_app`)."""
    return _hasher.hash("thidua-no-such-person")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _person(session: Session, username: str) -> Person:
    username = clean_code(username, "person")
    person = session.scalars(select(Person).where(Person.username == username)).one_or_none()
    if person is None:
        raise NotFound(f"no person with username '{username}'")
    return person


def create_token(session: Session, username: str, name: str, now: datetime) -> tuple[int, str]:
    """A new bearer token for `username`: (its id, the secret, shown this once only)."""
    person = _person(session, username)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        person_id=person.id,
        name=clean_text(name, "token name"),
        token_hash=_digest(secret),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id, secret


def revoke_token(session: Session, token_id: int, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def tokens_of(session: Session, username: str) -> list[ApiToken]:
    person = _person(session, username)
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.person_id == person.id).order_by(ApiToken.id)
        )
    )


_BY_TOKEN = (
    select(Person.username)
    .join(ApiToken, ApiToken.person_id == Person.id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None))
)


def authenticate_token(connection: Connection, secret: str) -> str:
    """The username a bearer token belongs to; Unauthenticated when unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise Unauthenticated("the bearer token is not a thidua API token")
    username = connection.scalar(_BY_TOKEN, {"digest": _digest(secret)})
    if username is None:
        raise Unauthenticated("the bearer token is unknown or was revoked")
    return username


def set_password(session: Session, username: str, password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    person = _person(session, username)
    person.password_hash = _hasher.hash(password)
    # Changing the password signs every browser of this person out.
    session.execute(delete(WebSession).where(WebSession.person_id == person.id))


@dataclass(frozen=True)
class SignedIn:
    """A browser session: the cookie's secret (shown once), its CSRF token, whose, until when."""

    username: str
    full_name: str
    csrf: str
    expires_at: datetime
    secret: str = ""


def _tried(username: object) -> str:
    """The name as a throttle counts it: trimmed, lower case, at most 200 characters."""
    return str(username).strip().lower()[:200]


def check_throttle(session: Session, username: object, client: str, now: datetime) -> None:
    """TooManyAttempts while `username` has THROTTLE_ATTEMPTS refusals from `client` within
    the last THROTTLE_MINUTES; checked before the password, which is then not even hashed."""
    since = now - timedelta(minutes=THROTTLE_MINUTES)
    count, oldest = session.execute(
        select(func.count(), func.min(SignInFailure.at)).where(
            SignInFailure.username == _tried(username),
            SignInFailure.client == client[:64],
            SignInFailure.at > since,
        )
    ).one()
    if count >= THROTTLE_ATTEMPTS:
        retry_at = oldest + timedelta(minutes=THROTTLE_MINUTES)
        raise TooManyAttempts(
            f"{count} refused sign-ins of '{_tried(username)}' from this client in the last "
            f"{THROTTLE_MINUTES} minutes; try again after {format_local(retry_at)}",
            retry_at,
        )


def record_failure(session: Session, username: object, client: str, now: datetime) -> None:
    """Count one refused sign-in, and forget those older than the throttle's window."""
    since = now - timedelta(minutes=THROTTLE_MINUTES)
    session.execute(delete(SignInFailure).where(SignInFailure.at <= since))
    session.add(SignInFailure(username=_tried(username), client=client[:64], at=now))


def sign_in(
    session: Session, username: str, password: str, now: datetime, client: str = ""
) -> SignedIn:
    """Check the password and open a session; one refusal for unknown person and wrong password.
    A name throttled from `client` is refused first (TooManyAttempts); the caller counts each
    refusal in a transaction of its own (`record_failure`), as this one is rolled back."""
    check_throttle(session, username, client, now)
    refused = Unauthenticated("the username or the password is wrong")
    try:
        name = clean_code(username, "username")
    except InvalidInput:
        _hasher.verify(password or "", dummy_hash())
        raise refused from None
    person = session.scalars(select(Person).where(Person.username == name)).one_or_none()
    if person is None or person.password_hash is None:
        _hasher.verify(password or "", dummy_hash())
        raise refused
    valid, rehashed = _hasher.verify_and_update(password or "", person.password_hash)
    if not valid:
        raise refused
    if rehashed is not None:
        person.password_hash = rehashed
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.username == _tried(username), SignInFailure.client == client[:64]
        )
    )
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + timedelta(hours=SESSION_HOURS)
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.add(
        WebSession(
            token_hash=_digest(secret),
            person_id=person.id,
            csrf=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    return SignedIn(person.username, person.full_name, csrf, expires, secret)


_BY_SESSION = (
    select(Person.username, Person.full_name, WebSession.csrf, WebSession.expires_at)
    .join(WebSession, WebSession.person_id == Person.id)
    .where(WebSession.token_hash == bindparam("digest"))
)


def session_of(session: Session, secret: str, now: datetime) -> SignedIn:
    """The signed-in person of a session cookie; Unauthenticated when unknown or expired."""
    row = session.execute(_BY_SESSION, {"digest": _digest(secret)}).one_or_none()
    if row is None or row.expires_at <= now:
        raise Unauthenticated("the session has ended; sign in again")
    return SignedIn(row.username, row.full_name, row.csrf, row.expires_at)


def end_session(session: Session, secret: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _digest(secret)))
