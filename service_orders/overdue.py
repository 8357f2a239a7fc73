"""SLA watch: work orders whose respond-by or resolve-by passed are flagged overdue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.db import utcnow
from crm.audit import UPDATE, record_change, snapshot
from service_orders.models import WorkOrder
from service_orders.states import UNASSIGNED, Status
from service_orders.workorders import AUDIT_FIELDS, ENTITY, VISIT_STATUSES, move, record_note


def mark_overdue(session: Session, *, now: datetime | None = None) -> int:
    """Flag work orders whose SLA passed: unassigned past respond-by, held past resolve-by."""
    now = now or utcnow()
    waiting = select(WorkOrder).where(
        WorkOrder.status.in_(UNASSIGNED - {Status.OVERDUE}), WorkOrder.respond_by < now
    )
    late = session.scalars(waiting.order_by(WorkOrder.id).with_for_update(skip_locked=True)).all()
    for work_order in late:
        since = work_order.overdue_since or now
        move(
            session, work_order, Status.OVERDUE, actor=SYSTEM, note="respond-by passed",
            now=now, changes={"overdue_since": since},
        )  # fmt: skip
    held = select(WorkOrder).where(
        WorkOrder.status.in_(VISIT_STATUSES),
        WorkOrder.resolve_by < now,
        WorkOrder.overdue_since.is_(None),
    )
    behind = session.scalars(held.order_by(WorkOrder.id).with_for_update(skip_locked=True)).all()
    for work_order in behind:
        before = snapshot(work_order, AUDIT_FIELDS)
        work_order.overdue_since = work_order.updated_at = now
        record_note(session, work_order, note="resolve-by passed")
        record_change(
            session, actor=SYSTEM, action=UPDATE, entity=ENTITY, entity_id=work_order.id,
            before=before, after=snapshot(work_order, AUDIT_FIELDS),
        )  # fmt: skip
    return len(late) + len(behind)
