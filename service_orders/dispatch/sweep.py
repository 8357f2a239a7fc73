"""The dispatch sweep: every waiting work order, each in its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings
from core.db import utcnow
from core.errors import Conflict
from service_orders.dispatch.offers import DISPATCHABLE, dispatch
from service_orders.models import DispatchDecision, DispatchOffer, OfferStatus, WorkOrder

# an escalated order is tried again this often (someone may have come on shift)
RETRY_ESCALATED_AFTER = timedelta(minutes=5)


def waiting_work_orders(session: Session, *, now: datetime, limit: int = 500) -> Sequence[int]:
    """Unassigned orders with no offer out, never decided or escalated a while ago; urgent first."""
    pending = exists().where(
        DispatchOffer.work_order_id == WorkOrder.id, DispatchOffer.status == OfferStatus.PENDING
    )
    recent = exists().where(
        DispatchDecision.work_order_id == WorkOrder.id,
        DispatchDecision.decided_at > now - RETRY_ESCALATED_AFTER,
    )
    return session.scalars(
        select(WorkOrder.id)
        .where(WorkOrder.status.in_(sorted(DISPATCHABLE)), ~pending, ~recent)
        .order_by(WorkOrder.priority, WorkOrder.respond_by, WorkOrder.id)
        .limit(limit)
    ).all()


def dispatch_waiting(
    sessions: sessionmaker[Session], settings: Settings, *, work_order_ids: Sequence[int] = ()
) -> int:
    """Dispatch the given (or all waiting) orders, one commit each; returns offers made."""
    now = utcnow()
    if not work_order_ids:
        with sessions() as session:
            work_order_ids = waiting_work_orders(session, now=now)
    offered = 0
    for work_order_id in work_order_ids:
        with sessions.begin() as session:
            try:
                decision = dispatch(session, work_order_id=work_order_id, settings=settings)
            except Conflict:
                continue  # another worker got there first, or it is no longer waiting
            offered += decision.engineer_id is not None
    return offered
