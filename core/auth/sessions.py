"""Create, resolve and revoke server-side sessions; throttle failed logins."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from core.auth.models import LoginFailure, WebSession
from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from core.db import utcnow
from core.errors import TooManyAttempts

_TOUCH_AFTER = timedelta(minutes=5)
_CLIENT_FAILURE_FACTOR = 4
FIRST_LOGIN_DELAY = timedelta(seconds=30)


def _idle_limit() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_minutes)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(session: Session, *, principal: Principal, max_age: timedelta) -> str:
    """Store a new session for the principal and return the cookie token (shown once)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=_token_hash(token),
            user_id=principal.user_id,
            org_id=principal.org_id,
            role=principal.role.value,
            name=principal.name,
            email=principal.email,
            created_at=now,
            last_seen_at=now,
            expires_at=now + max_age,
        )
    )
    session.flush()
    return token


def resolve_session(session: Session, *, token: str) -> Principal | None:
    """The principal of a live session token, or None when unknown, expired or idle for
    longer than FIELDCRM_SESSION_IDLE_MINUTES (last use is kept to within 5 minutes)."""
    row = session.get(WebSession, _token_hash(token))
    now = utcnow()
    if row is None or row.expires_at <= now or now - row.last_seen_at > _idle_limit():
        return None
    if now - row.last_seen_at > _TOUCH_AFTER:
        row.last_seen_at = now
    return Principal(
        user_id=row.user_id, org_id=row.org_id, role=Role(row.role), name=row.name, email=row.email
    )


def end_session(session: Session, *, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def revoke_user_sessions(session: Session, *, user_id: int) -> int:
    """End every session of a user (role change, deactivation, password change)."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult at runtime


def check_login_allowed(
    session: Session, *, email: str, client: str, max_failures: int, window: timedelta
) -> None:
    """Refuse a login attempt that comes too soon after failures of the e-mail or the client.

    The first `max_failures` failures cost nothing; after them each attempt waits a delay that
    doubles with every further failure (30 s, 1 min, 2 min, ...) up to `window`, so a guesser
    is slowed to a trickle while the account's owner is never locked out for long. Attempts
    for one e-mail or one client are serialised (transaction-scoped advisory locks, held until
    the caller commits the failure), so parallel requests cannot all read the same count."""
    for key in (f"login:email:{email}", f"login:client:{client}"):  # always in this order
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    since = utcnow() - window
    by_email, by_client, last_email, last_client = session.execute(
        select(
            func.count().filter(LoginFailure.email == email),
            func.count().filter(LoginFailure.client == client),
            func.max(LoginFailure.failed_at).filter(LoginFailure.email == email),
            func.max(LoginFailure.failed_at).filter(LoginFailure.client == client),
        ).where(
            LoginFailure.failed_at > since,
            or_(LoginFailure.email == email, LoginFailure.client == client),
        )
    ).one()
    now = utcnow()
    waits = [
        last + _delay(count - max_failures, window) - now
        for count, last, allowed in (
            (by_email, last_email, max_failures),
            (by_client, last_client, max_failures * _CLIENT_FAILURE_FACTOR),
        )
        if last is not None and count >= allowed
    ]
    wait = max(waits, default=timedelta(0))
    if wait > timedelta(0):
        seconds = max(1, int(wait.total_seconds() + 0.999))
        raise TooManyAttempts(
            f"Too many failed logins. Wait {_in_words(seconds)} and try again.",
            retry_after=seconds,
        )


def _delay(beyond: int, window: timedelta) -> timedelta:
    """The wait after the free failures: 30 s, doubling with each further failure."""
    doubled: timedelta = FIRST_LOGIN_DELAY * (2 ** min(max(beyond, 0), 16))
    return min(doubled, window)


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def record_login_failure(session: Session, *, email: str, client: str) -> None:
    session.add(LoginFailure(email=email, client=client))
    session.flush()


def clear_login_failures(session: Session, *, email: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))


_KEEP_LOGIN_FAILURES = timedelta(days=1)


def purge_expired(session: Session) -> int:
    """Delete expired sessions and day-old failed logins; return how many sessions went."""
    now = utcnow()
    expired = session.scalars(
        delete(WebSession)
        .where(or_(WebSession.expires_at <= now, WebSession.last_seen_at < now - _idle_limit()))
        .returning(WebSession.token_hash)
    ).all()
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - _KEEP_LOGIN_FAILURES))
    return len(expired)
