"""The customer app's background work: health watches, checked every minute."""

from __future__ import annotations

from procrastinate import Blueprint

from core.db import get_sessionmaker
from customer_app.watches import check_watches

blueprint = Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queue="notifications", queueing_lock="check_health_watches")
def check_health_watches(timestamp: int) -> int:
    """Notify customers whose devices fell below their health threshold; returns how many."""
    with get_sessionmaker().begin() as session:
        return check_watches(session)
