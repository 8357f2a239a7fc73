"""Partner portal's background work: the tier review after each quarter end, and approval
steps escalated after their time-out."""

from __future__ import annotations

from datetime import date

from procrastinate import Blueprint
from sqlalchemy import select

from core.auth.principal import SYSTEM
from core.db import get_sessionmaker
from partner_portal.approval_handoffs import escalate_overdue_steps
from partner_portal.models import TierRule
from partner_portal.tiers import last_quarter_end, review_tiers, was_reviewed

blueprint = Blueprint()


@blueprint.periodic(cron="17 2 * * *")
@blueprint.task(queue="partner_portal", queueing_lock="review_tiers")
def review_tiers_after_quarter_end(timestamp: int) -> dict[str, int] | None:
    """Daily: review partner tiers once for the last ended quarter (None: nothing to do)."""
    period_end = last_quarter_end(date.today())
    with get_sessionmaker().begin() as session:
        no_rules = session.scalar(select(TierRule.tier).limit(1)) is None
        if no_rules or was_reviewed(session, period_end):
            return None
        result = review_tiers(session, actor=SYSTEM, period_end=period_end)
    return {"promoted": result.promoted, "demoted": result.demoted}


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(queue="partner_portal", queueing_lock="escalate_approval_steps")
def escalate_approval_steps(timestamp: int) -> int:
    """Every five minutes: give approval steps past their time-out to the next level."""
    with get_sessionmaker().begin() as session:
        return len(escalate_overdue_steps(session))
