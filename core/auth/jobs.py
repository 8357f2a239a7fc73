"""Housekeeping of the auth tables."""

from __future__ import annotations

from datetime import timedelta

from procrastinate import Blueprint
from sqlalchemy import delete

from core.auth.models import LoginFailure, WebSession
from core.db import get_sessionmaker, utcnow

blueprint = Blueprint()

_KEEP_LOGIN_FAILURES = timedelta(days=1)


@blueprint.periodic(cron="*/15 * * * *")
@blueprint.task(queue="housekeeping", queueing_lock="purge_expired_sessions")
def purge_expired_sessions(timestamp: int) -> int:
    """Delete expired sessions and old failed-login rows; returns how many went."""
    with get_sessionmaker().begin() as session:
        now = utcnow()
        expired = session.scalars(
            delete(WebSession).where(WebSession.expires_at <= now).returning(WebSession.token_hash)
        ).all()
        session.execute(
            delete(LoginFailure).where(LoginFailure.failed_at < now - _KEEP_LOGIN_FAILURES)
        )
    return len(expired)
