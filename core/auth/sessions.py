"""Create, resolve and revoke server-side sessions; throttle failed logins.

A session may carry a pending step (the password someone else chose must be changed, a
required second factor enrolled): until it is done the session opens only the step's page,
every other request raises StepRequired (a page redirects there, the API answers 403 with
the step's code)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from core.auth.models import LoginFailure, WebSession
from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from core.db import utcnow
from core.errors import PermissionDenied, TooManyAttempts

_TOUCH_AFTER = timedelta(minutes=5)
_CLIENT_FAILURE_FACTOR = 4
FIRST_LOGIN_DELAY = timedelta(seconds=30)


class PendingStep(StrEnum):
    CHANGE_PASSWORD = "password_change_required"  # noqa: S105  # a step, not a password
    ENROL_TWO_FACTOR = "two_factor_enrolment_required"


STEP_PAGES = {
    PendingStep.CHANGE_PASSWORD: "/settings/password",
    PendingStep.ENROL_TWO_FACTOR: "/settings/two-factor",
}
_STEP_MESSAGES = {
    PendingStep.CHANGE_PASSWORD: "Choose a new password first (POST /api/me/password).",
    PendingStep.ENROL_TWO_FACTOR: "Set up two-factor authentication first (/settings/two-factor).",
}


class StepRequired(PermissionDenied):
    """The session must finish a step before anything else; `location` is its page."""

    def __init__(self, step: PendingStep) -> None:
        super().__init__(_STEP_MESSAGES[step], code=step.value, location=STEP_PAGES[step])
        self.step = step
        self.location = STEP_PAGES[step]


def _idle_limit() -> timedelta:
    return timedelta(minutes=get_settings().session_idle_minutes)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(
    session: Session,
    *,
    principal: Principal,
    max_age: timedelta,
    pending_step: PendingStep | None = None,
) -> str:
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
            pending_step=pending_step.value if pending_step else None,
        )
    )
    session.flush()
    return token


def resolve_session(session: Session, *, token: str) -> Principal | None:
    """The principal of a live session token, or None when unknown, expired or idle for
    longer than FIELDCRM_SESSION_IDLE_MINUTES (last use is kept to within 5 minutes);
    StepRequired while the session has a step to finish."""
    live = resolve_session_with_step(session, token=token)
    if live is None:
        return None
    principal, step = live
    if step is not None:
        raise StepRequired(step)
    return principal


def resolve_session_with_step(
    session: Session, *, token: str
) -> tuple[Principal, PendingStep | None] | None:
    """The principal of a live session and the step it must finish (None: none), for the
    pages of those steps; None when the session is unknown, expired or idle."""
    row = session.get(WebSession, _token_hash(token))
    now = utcnow()
    if row is None or row.expires_at <= now or now - row.last_seen_at > _idle_limit():
        return None
    if now - row.last_seen_at > _TOUCH_AFTER:
        row.last_seen_at = now
    principal = Principal(
        user_id=row.user_id, org_id=row.org_id, role=Role(row.role), name=row.name, email=row.email
    )
    return principal, PendingStep(row.pending_step) if row.pending_step else None


def set_pending_step(session: Session, *, token: str, step: PendingStep | None) -> None:
    """Give a session the step it must finish next, or none."""
    row = session.get(WebSession, _token_hash(token))
    if row is not None:
        row.pending_step = step.value if step else None
        session.flush()


def end_session(session: Session, *, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def revoke_user_sessions(session: Session, *, user_id: int, keep_token: str | None = None) -> int:
    """End every session of a user (role change, deactivation, password change), but the one
    of `keep_token` (the browser that changed its own password)."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token is not None:
        query = query.where(WebSession.token_hash != _token_hash(keep_token))
    result = session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult at runtime


def check_login_allowed(
    session: Session,
    *,
    email: str,
    client: str,
    max_failures: int,
    window: timedelta,
    what: str = "failed logins",
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
            f"Too many {what}. Wait {_in_words(seconds)} and try again.",
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
