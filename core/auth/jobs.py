"""Housekeeping of the auth tables."""

from __future__ import annotations

from procrastinate import Blueprint

from core.auth.sessions import purge_expired
from core.db import get_sessionmaker

blueprint = Blueprint()


@blueprint.periodic(cron="*/15 * * * *")
@blueprint.task(queue="housekeeping", queueing_lock="purge_expired_sessions")
def purge_expired_sessions(timestamp: int) -> int:
    """Delete expired sessions and old failed-login rows; returns how many sessions went."""
    with get_sessionmaker().begin() as session:
        return purge_expired(session)
